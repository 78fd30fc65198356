//! The `chapmark` binary: argument parsing, output, colour and exit codes. All chapter logic
//! lives in the library; `cli` and `app` are the binary's own modules.

mod app;
mod cli;

fn main() -> std::process::ExitCode {
    app::main()
}
