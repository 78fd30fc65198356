//! The library API without the CLI: probe, read chapters, validate, write and read back, on
//! a copy of a committed fixture. CI builds and runs it with `--no-default-features`, which
//! proves the API needs none of the binary's crates (clap, anyhow, indicatif, env_logger).
//!
//! `cargo run --example library --no-default-features`

use chapmark::validate::{Profile, Severity};
use std::process::ExitCode;

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let audio = dir.path().join("episode.mp3");
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/mp3/notag.mp3");
    std::fs::copy(fixture, &audio)?;

    let info = chapmark::probe(&audio)?;
    let notes = b"00:00 Intro\n00:01 The news\n00:02 Outro\n";
    let chapters = chapmark::read_chapters(&notes[..])?;
    let diagnostics = chapmark::validate(&chapters.list, &info, &Profile::Default);
    if diagnostics.iter().any(|d| d.severity == Severity::Error) {
        return Err("the example chapters should pass validation".into());
    }
    let written = chapmark::write(&audio, &chapters.list, &chapmark::EmbedOptions::default())?;
    let back = chapmark::read_embedded(&audio)?;
    if back.len() != chapters.list.len() {
        return Err(format!(
            "wrote {} chapters, read {}",
            chapters.list.len(),
            back.len()
        )
        .into());
    }
    println!(
        "{}: {} chapters written ({}, {} bytes), {} read back",
        info.container.name(),
        chapters.list.len(),
        written.kind,
        written.bytes,
        back.len()
    );
    chapmark::strip(&audio)?;
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("library example: {e}");
            ExitCode::FAILURE
        }
    }
}
