//! Command execution for the binary. The library never prints; this module owns stdout,
//! stderr, colour, progress and the mapping of outcomes to exit codes.

mod batch;
mod batch_commit;
mod batch_source;
mod check;
mod common;
mod convert;
mod docs;
mod edit;
mod feed;
mod io;
mod plot;
mod probe;
mod remap;
#[cfg(feature = "s3")]
mod s3;
mod same_file;
mod shard;
mod snap;
mod stdin;
mod write;

use crate::cli::{Cli, ColorChoice, Command, ExitStatus};
use clap::Parser;
use std::io::IsTerminal;
use std::process::ExitCode;

/// What a command decided, before it becomes a process exit code.
pub type Outcome = anyhow::Result<ExitStatus>;

/// Shared presentation settings.
#[derive(Debug, Clone, Copy)]
pub struct Ui {
    /// Colour stdout.
    pub color: bool,
    /// Colour stderr.
    pub color_err: bool,
    /// Suppress non-error chatter.
    pub quiet: bool,
    /// Standard error is a terminal (progress bars).
    pub tty_err: bool,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose, cli.quiet);
    chapmark::write::apply::lock::set_timeout(cli.lock_timeout);
    let ui = Ui {
        color: wants_color(cli.color, std::io::stdout().is_terminal()),
        color_err: wants_color(cli.color, std::io::stderr().is_terminal()),
        quiet: cli.quiet,
        tty_err: std::io::stderr().is_terminal(),
    };
    let outcome = run(cli.command, ui);
    match outcome {
        Ok(status) => ExitCode::from(status as u8),
        Err(err) => {
            let status = io::exit_status_of(&err);
            let prefix = if ui.color_err {
                "\x1b[1;31merror\x1b[0m"
            } else {
                "error"
            };
            eprintln!("chapmark: {prefix}: {}", error_text(&err));
            ExitCode::from(status as u8)
        }
    }
}

/// The error and its causes joined with `: ` like `{:#}`, but without a cause whose text is
/// already in the message: library errors name their source in their own message (`x.mp3:
/// opening: No such file…`) and also expose it as `source()`, which `{:#}` prints again.
pub(crate) fn error_text(err: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if out.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}

fn run(command: Command, ui: Ui) -> Outcome {
    #[cfg(feature = "s3")]
    if s3::wants(&command) {
        return s3::run(command, ui);
    }
    match command {
        Command::Convert(a) => convert::run(a, ui),
        Command::Probe(a) => probe::run(a, ui),
        Command::Check(a) => check::run(a, ui),
        Command::Write(a) => write::run_write(a, ui),
        Command::Show(a) => write::run_show(a, ui),
        Command::Strip(a) => write::run_strip(a, ui),
        Command::Batch(a) => batch::run(a, ui),
        Command::Completions(a) => docs::completions(a.shell),
        Command::Man(a) => docs::man(a.out_dir.as_deref()),
        Command::Feed(a) => feed::run(a, ui),
        Command::Plot(a) => plot::run(a, ui),
        Command::Remap(a) => remap::run(a, ui),
        Command::Edit(a) => edit::run(a, ui),
    }
}

fn wants_color(choice: ColorChoice, is_tty: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => is_tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    }
}

fn init_logging(verbose: u8, quiet: bool) {
    let level = match (quiet, verbose) {
        (true, _) => log::LevelFilter::Error,
        (false, 0) => log::LevelFilter::Warn,
        (false, 1) => log::LevelFilter::Info,
        (false, _) => log::LevelFilter::Debug,
    };
    // Dependencies (symphonia) log their own recoverable oddities at warn; only errors of
    // theirs are worth a producer's attention unless debugging.
    let deps = if verbose >= 2 {
        level
    } else {
        log::LevelFilter::Error
    };
    env_logger::Builder::new()
        .filter_level(deps)
        .filter_module("chapmark", level)
        .parse_env("CHAPMARK_LOG")
        .format_timestamp(None)
        .format_target(false)
        .init();
}
