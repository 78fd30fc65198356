//! Rules about the file rather than the chapter list: what outside readers will make of the
//! tag chapmark writes (`ffmpeg-drops-chapter`), and a file whose extension names another
//! container than its content (`extension-mismatch`). The callers know the file; these
//! functions only turn what they found into diagnostics, with the profile's severity.

use super::{Diagnostic, Profile, Rule, Severity, who};
use crate::chapter::ChapterList;
use crate::container::id3v2::{FFMPEG_V24_SUBFRAME_LIMIT, v24_oversized};
use crate::probe::Container;
use std::path::Path;

/// A warning, or an error when the profile raises every warning.
fn warning(profile: Profile) -> Severity {
    if profile.policy().escalate {
        Severity::Error
    } else {
        Severity::Warning
    }
}

/// `ffmpeg-drops-chapter`: for chapters stored in an ID3v2.4 tag, one diagnostic per chapter
/// that ffmpeg 5.x (ffprobe, and the players and services built on it) will not list,
/// because a sub-frame of its `CHAP` holds [`FFMPEG_V24_SUBFRAME_LIMIT`] bytes or more.
/// Call it only when the tag is (or will be written as) v2.4; `descriptions` says whether
/// `TIT3` descriptions are (or will be) stored.
pub fn ffmpeg_drops_chapter(
    list: &ChapterList,
    descriptions: bool,
    profile: Profile,
) -> Vec<Diagnostic> {
    let mut out: Vec<Diagnostic> = Vec::new();
    for o in v24_oversized(list, descriptions) {
        let Some(ch) = list.chapters.get(o.chapter) else {
            continue;
        };
        // One diagnostic per chapter: the first sub-frame over the limit is enough to lose it.
        if out.last().is_some_and(|d| d.chapter == Some(o.chapter + 1)) {
            continue;
        }
        let what = match o.frame.as_str() {
            "TIT2" => "title",
            "TIT3" => "description",
            "WXXX" => "url",
            _ => "sub-frame",
        };
        out.push(Diagnostic {
            severity: warning(profile),
            rule: Rule::FfmpegDropsChapter,
            chapter: Some(o.chapter + 1),
            line: ch.line(),
            timestamp: Some(ch.written_timestamp()),
            message: format!(
                "{}: its {what} takes {} bytes in the id3v2.4 tag; ffmpeg 5.x (ffprobe and \
                 players built on it) drops a chapter with a sub-frame of {FFMPEG_V24_SUBFRAME_LIMIT} \
                 bytes or more",
                who(o.chapter + 1, ch),
                o.bytes
            ),
            hint: Some(
                "write id3v2.3 (chapmark's default unless --id3v2 4 is given), or shorten it"
                    .to_string(),
            ),
        });
    }
    out
}

/// The extensions each container is served under.
fn extensions(c: Container) -> &'static [&'static str] {
    match c {
        Container::Mp3 => &["mp3", "mp2", "mp1", "mpga"],
        Container::Mp4 => &["m4a", "m4b", "mp4", "m4v", "m4p", "mov", "3gp"],
        Container::Wav => &["wav", "wave"],
        Container::Flac => &["flac"],
        Container::Ogg => &["ogg", "oga", "opus", "spx"],
    }
}

/// `extension-mismatch`: the file's extension belongs to another container than the one its
/// content is (an M4A named `.mp3`). chapmark writes what the content is, but podcast hosts
/// and CDNs set the `Content-Type` (and players pick a decoder) from the extension. `None`
/// for a matching, missing or unknown extension.
pub fn extension_mismatch(path: &Path, content: Container, profile: Profile) -> Option<Diagnostic> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    if extensions(content).contains(&ext.as_str()) {
        return None;
    }
    let named = [
        Container::Mp3,
        Container::Mp4,
        Container::Wav,
        Container::Flac,
        Container::Ogg,
    ]
    .into_iter()
    .find(|c| extensions(*c).contains(&ext.as_str()))?;
    let right = extensions(content).first().copied().unwrap_or("");
    Some(Diagnostic {
        severity: warning(profile),
        rule: Rule::ExtensionMismatch,
        chapter: None,
        line: None,
        timestamp: None,
        message: format!(
            "the file is named .{ext} but holds {} audio, not {}; hosts serve it with the \
             content type of its name, and some players will not play it",
            content.name(),
            named.name()
        ),
        hint: Some(format!("rename it to .{right}")),
    })
}
