//! The one error type of the library API.

use crate::validate::Diagnostic;
use std::path::{Path, PathBuf};

/// What went wrong, for callers that handle failures differently (retry, skip, report).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The audio could not be read or is not audio chapmark can measure.
    Probe,
    /// The chapters input could not be read (not text, a malformed chapter file, I/O).
    Chapters,
    /// The file is audio, but of a container chapmark does not read or write chapters in.
    Unsupported,
    /// Validation found errors (or warnings, when they are denied); nothing was written.
    /// [`Error::diagnostics`] holds the findings.
    Invalid,
    /// Reading, planning or applying the chapter change failed (malformed tags or boxes, an
    /// I/O error, an interrupted earlier write that cannot be rolled back).
    Write,
}

/// An error of the library API: a [`kind`](Error::kind), the file it concerns, and a
/// lowercase message that already names the file (so it can be shown as it is). The
/// underlying error, when there is one, is the [`source`](std::error::Error::source).
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
#[non_exhaustive]
pub struct Error {
    kind: ErrorKind,
    path: Option<PathBuf>,
    message: String,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
    diagnostics: Vec<Diagnostic>,
}

impl Error {
    /// What went wrong.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The file the error is about, when there is one.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// For [`ErrorKind::Invalid`]: every diagnostic validation found (errors and warnings).
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }

    /// An error with its own message and no underlying cause.
    pub(crate) fn new(kind: ErrorKind, path: &Path, message: String) -> Self {
        Error {
            kind,
            path: Some(path.to_path_buf()),
            message,
            source: None,
            diagnostics: Vec::new(),
        }
    }

    /// Wraps a library error whose message already names the file; the message is kept
    /// exactly, so the CLI prints what it printed before the API existed.
    pub(crate) fn wrap<E>(kind: ErrorKind, path: &Path, source: E) -> Self
    where
        E: std::error::Error + Send + Sync + 'static,
    {
        Error {
            kind,
            path: Some(path.to_path_buf()),
            message: source.to_string(),
            source: Some(Box::new(source)),
            diagnostics: Vec::new(),
        }
    }

    /// A failed validation.
    pub(crate) fn invalid(path: &Path, diagnostics: Vec<Diagnostic>) -> Self {
        let errors = diagnostics
            .iter()
            .filter(|d| d.severity == crate::validate::Severity::Error)
            .count();
        let message = format!(
            "{}: the chapters did not pass validation ({errors} errors, {} warnings); nothing written",
            path.display(),
            diagnostics.len() - errors
        );
        Error {
            diagnostics,
            ..Error::new(ErrorKind::Invalid, path, message)
        }
    }
}
