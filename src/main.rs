//! The `chapmark` binary: argument parsing, output, colour and exit codes. All chapter logic
//! lives in the library.

mod app;

fn main() -> std::process::ExitCode {
    app::main()
}
