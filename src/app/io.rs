//! File and stream input for the binary, and the error → exit-code mapping.

use crate::cli::ExitStatus;
use std::io::Read;
use std::path::Path;

// The library's cap on a chapters file, for stdin as well.
use chapmark::api::MAX_TEXT_INPUT;

/// An error that maps to a specific exit status (default for plain errors is
/// [`ExitStatus::Input`]).
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct StatusError {
    pub status: ExitStatus,
    pub message: String,
}

/// A usage error (exit 2).
pub fn usage(message: impl Into<String>) -> anyhow::Error {
    StatusError {
        status: ExitStatus::Usage,
        message: message.into(),
    }
    .into()
}

/// The exit status for an error: its own if it carries one, else 3 (input problem).
pub fn exit_status_of(err: &anyhow::Error) -> ExitStatus {
    err.chain()
        .find_map(|e| e.downcast_ref::<StatusError>())
        .map_or(ExitStatus::Input, |s| s.status)
}

/// The name to show for an input path (`<stdin>` for `-`).
pub fn display_name(path: &Path) -> String {
    if path == Path::new("-") {
        "<stdin>".to_string()
    } else {
        path.display().to_string()
    }
}

/// The error for a chapters file that cannot be opened.
fn not_readable(name: &str, e: &std::io::Error) -> anyhow::Error {
    match e.kind() {
        std::io::ErrorKind::NotFound => anyhow::anyhow!("chapters file {name}: not found"),
        _ => anyhow::anyhow!("chapters file {name}: {e}"),
    }
}

/// Reads a text input (notes or chapter file) with a size cap; `-` is standard input.
pub fn read_text_input(path: &Path) -> anyhow::Result<Vec<u8>> {
    let name = display_name(path);
    let mut buf = Vec::new();
    if path == Path::new("-") {
        std::io::stdin()
            .lock()
            .take(MAX_TEXT_INPUT + 1)
            .read_to_end(&mut buf)
            .map_err(|e| anyhow::anyhow!("{name}: cannot read: {e}"))?;
    } else {
        // Named as the chapters input: next to an audio path, a bare `ja.tx: No such file`
        // does not say which of the two was mistyped.
        let meta = std::fs::metadata(path).map_err(|e| not_readable(&name, &e))?;
        if meta.is_dir() {
            anyhow::bail!("chapters file {name}: is a directory, not a chapters file");
        }
        let file = std::fs::File::open(path).map_err(|e| not_readable(&name, &e))?;
        file.take(MAX_TEXT_INPUT + 1)
            .read_to_end(&mut buf)
            .map_err(|e| anyhow::anyhow!("{name}: cannot read: {e}"))?;
    }
    if buf.len() as u64 > MAX_TEXT_INPUT {
        anyhow::bail!(
            "{name}: larger than {} MiB; this does not look like a chapters file",
            MAX_TEXT_INPUT / 1024 / 1024
        );
    }
    Ok(buf)
}
