//! Model → CUE sheet.

use crate::chapter::ChapterList;
use crate::format::WriteOptions;
use crate::format::common::one_line;
use crate::time::Time;

/// Writes a single-file CUE sheet, one track per chapter. CUE has no ends, so only
/// [`WriteOptions::audio_file`] is used.
pub fn write(list: &ChapterList, opts: &WriteOptions) -> Vec<u8> {
    let mut out = String::new();
    if let Some(author) = &list.meta.author {
        out.push_str(&format!("PERFORMER \"{}\"\n", quoted(author)));
    }
    if let Some(title) = &list.meta.title {
        out.push_str(&format!("TITLE \"{}\"\n", quoted(title)));
    }
    let file = opts
        .audio_file
        .as_deref()
        .and_then(|f| f.rsplit(['/', '\\']).next())
        .filter(|f| !f.is_empty())
        .unwrap_or("audio.mp3");
    out.push_str(&format!("FILE \"{}\" {}\n", quoted(file), file_type(file)));
    if list.len() > 99 {
        log::warn!(
            "cue: {} chapters; CUE sheets allow at most 99 tracks",
            list.len()
        );
    }
    for (i, c) in list.chapters.iter().enumerate() {
        out.push_str(&format!("  TRACK {:02} AUDIO\n", i + 1));
        out.push_str(&format!("    TITLE \"{}\"\n", quoted(&c.title)));
        if let Some(url) = c.url() {
            out.push_str(&format!("    REM URL \"{}\"\n", quoted(url)));
        }
        out.push_str(&format!("    INDEX 01 {}\n", frames(c.start)));
    }
    out.into_bytes()
}

/// `MM:SS:FF`, rounded to the nearest frame (1/75 s).
fn frames(t: Time) -> String {
    let total = t.to_units(75);
    let (f, secs) = (total % 75, total / 75);
    format!("{:02}:{:02}:{:02}", secs / 60, secs % 60, f)
}

/// A value safe inside CUE quotes: `"` alternately becomes `“` / `”`, line breaks spaces.
fn quoted(s: &str) -> String {
    let mut open = true;
    one_line(s)
        .chars()
        .map(|c| {
            if c == '"' {
                let q = if open { '“' } else { '”' };
                open = !open;
                q
            } else {
                c
            }
        })
        .collect()
}

fn file_type(name: &str) -> &'static str {
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".mp3") {
        "MP3"
    } else if lower.ends_with(".aif") || lower.ends_with(".aiff") {
        "AIFF"
    } else {
        "WAVE"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chapter::Chapter;

    #[test]
    fn frames_round() {
        assert_eq!(frames(Time::from_millis(40)), "00:00:03");
        assert_eq!(frames(Time::from_millis(6)), "00:00:00");
        assert_eq!(frames(Time::from_millis(7)), "00:00:01");
        assert_eq!(frames(Time::from_secs(100 * 60 + 5)), "100:05:00");
        assert_eq!(frames(Time::from_millis(59_995)), "01:00:00");
    }

    #[test]
    fn quotes_and_file_line() {
        assert_eq!(quoted("say \"hi\" \"x"), "say “hi” “x");
        let list = ChapterList::new(vec![Chapter::new(Time::ZERO, "a")]);
        let opts = WriteOptions {
            duration: None,
            audio_file: Some("/tmp/dir/ep 1.m4a".into()),
        };
        let text = String::from_utf8(write(&list, &opts)).unwrap();
        assert_eq!(
            text,
            "FILE \"ep 1.m4a\" WAVE\n  TRACK 01 AUDIO\n    TITLE \"a\"\n    INDEX 01 00:00:00\n"
        );
    }
}
