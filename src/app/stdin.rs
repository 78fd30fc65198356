//! `-` as the audio argument of a reading command (`probe -`, `show -`, `check -`): standard
//! input is copied to a private temporary file first, because every container needs to seek
//! (MP4 keeps its index at either end, MP3 is measured to its last frame). The copy is capped
//! and deleted when the command ends; messages name it `<stdin>`.

use super::io::usage;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// Largest standard input buffered: a 10-hour episode at 320 kbit/s is 1.4 GB.
pub const MAX_STDIN_AUDIO: u64 = 4 << 30;

/// An audio argument ready to open: the path as given, or the buffered standard input.
pub struct AudioInput {
    path: PathBuf,
    buffered: Option<tempfile::NamedTempFile>,
}

impl AudioInput {
    /// Where to read it.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The name for messages: the path as given, or `<stdin>`.
    pub fn name(&self) -> String {
        match self.buffered {
            Some(_) => "<stdin>".to_string(),
            None => self.path.display().to_string(),
        }
    }

    /// Rewrites the temporary file's path to `<stdin>` in an error.
    pub fn rename_error(&self, err: anyhow::Error) -> anyhow::Error {
        match &self.buffered {
            Some(tmp) => {
                let text = super::error_text(&err);
                let tmp = tmp.path().display().to_string();
                anyhow::anyhow!(text.replace(&tmp, "<stdin>"))
            }
            None => err,
        }
    }
}

/// `path`, or standard input copied to a temporary file when `path` is `-`.
pub fn audio_input(path: &Path) -> anyhow::Result<AudioInput> {
    if path != Path::new("-") {
        return Ok(AudioInput {
            path: path.to_path_buf(),
            buffered: None,
        });
    }
    let mut tmp = tempfile::Builder::new()
        .prefix("chapmark-stdin-")
        .tempfile()
        .map_err(|e| anyhow::anyhow!("<stdin>: cannot create a temporary file: {e}"))?;
    let copied = std::io::copy(
        &mut std::io::stdin().lock().take(MAX_STDIN_AUDIO + 1),
        tmp.as_file_mut(),
    )
    .and_then(|n| tmp.as_file_mut().flush().map(|()| n))
    .map_err(|e| anyhow::anyhow!("<stdin>: cannot buffer standard input: {e}"))?;
    if copied > MAX_STDIN_AUDIO {
        anyhow::bail!(
            "<stdin>: more than {} GiB on standard input; pass the file itself",
            MAX_STDIN_AUDIO >> 30
        );
    }
    Ok(AudioInput {
        path: tmp.path().to_path_buf(),
        buffered: Some(tmp),
    })
}

/// Commands that change the audio file cannot take it from standard input.
pub fn refuse_stdin(path: &Path, command: &str) -> anyhow::Result<()> {
    if path == Path::new("-") {
        return Err(usage(format!(
            "{command} changes the audio file, so it needs a file, not `-` (standard input is \
             read by probe, show and check)"
        )));
    }
    Ok(())
}
