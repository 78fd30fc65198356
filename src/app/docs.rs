//! `chapmark completions SHELL` and `chapmark man`: generated from the clap definitions, so
//! they always match the binary they come from (release archives run these to ship them).

use super::Outcome;
use crate::cli::{Cli, ExitStatus, Shell};
use anyhow::Context as _;
use clap::CommandFactory;
use clap_complete::Shell as Target;
use std::io::Write;
use std::path::Path;

/// Prints the completion script for `shell` to stdout.
pub fn completions(shell: Shell) -> Outcome {
    let target = match shell {
        Shell::Bash => Target::Bash,
        Shell::Zsh => Target::Zsh,
        Shell::Fish => Target::Fish,
        Shell::Powershell => Target::PowerShell,
        Shell::Elvish => Target::Elvish,
    };
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(target, &mut cmd, "chapmark", &mut out);
    write_stdout(&out)
}

/// Prints the man page (roff) to stdout, or with `out_dir` writes `chapmark.1` and one
/// `chapmark-COMMAND.1` per command there (the pages a package installs under `man1/`).
pub fn man(out_dir: Option<&Path>) -> Outcome {
    let cmd = Cli::command();
    match out_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("{}: cannot create", dir.display()))?;
            clap_mangen::generate_to(cmd, dir)
                .with_context(|| format!("{}: cannot write the man pages", dir.display()))?;
            Ok(ExitStatus::Ok)
        }
        None => {
            let mut out = Vec::new();
            clap_mangen::Man::new(cmd)
                .render(&mut out)
                .context("rendering the man page")?;
            write_stdout(&out)
        }
    }
}

fn write_stdout(bytes: &[u8]) -> Outcome {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(bytes).context("standard output")?;
    stdout.flush().context("standard output")?;
    Ok(ExitStatus::Ok)
}
