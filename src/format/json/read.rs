//! JSON chapters → model.

use crate::chapter::{Chapter, ChapterList, Link, ListMeta, Origin};
use crate::format::common::{ensure_not_empty, line_of_offset, push_capped, strip_bom};
use crate::format::{Format, FormatError, MAX_CHAPTERS};
use crate::time::Time;
use serde_json::{Map, Value};

const F: Format = Format::Json;

/// Largest time accepted, in ms: 2^53 keeps every value exactly representable as a JSON
/// number and is far beyond any real episode.
const MAX_MS: u64 = 1 << 53;

/// Reads a Podcasting 2.0 JSON chapters document.
pub fn read(text: &str) -> Result<ChapterList, FormatError> {
    ensure_not_empty(F, text)?;
    let body = strip_bom(text);
    check_budget(body)?;
    let value: Value =
        serde_json::from_str(body).map_err(|e| FormatError::at(F, e.line(), serde_message(&e)))?;
    let Value::Object(root) = value else {
        return Err(FormatError::at(
            F,
            1,
            "expected a json object with a \"chapters\" array",
        ));
    };
    let items = match root.get("chapters") {
        Some(Value::Array(items)) => items,
        Some(_) => {
            return Err(FormatError::at(
                F,
                key_line(body, "chapters"),
                "\"chapters\" must be an array",
            ));
        }
        None => return Err(FormatError::at(F, 1, "no \"chapters\" array")),
    };
    let positions = scan_positions(body);
    if items.len() > MAX_CHAPTERS {
        let line = positions.get(MAX_CHAPTERS).map_or(1, |p| p.line);
        return Err(FormatError::TooManyChapters {
            format: F,
            line,
            max: MAX_CHAPTERS,
        });
    }
    let mut chapters = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let pos = positions.get(i);
        let line = pos.map_or(0, |p| p.line);
        let chapter = read_chapter(i + 1, item, line, pos.and_then(|p| p.start.clone()))?;
        push_capped(F, &mut chapters, chapter, line)?;
    }
    Ok(ChapterList {
        chapters,
        meta: ListMeta {
            title: string_field(&root, "title"),
            podcast: string_field(&root, "podcastName"),
            author: string_field(&root, "author"),
        },
    })
}

/// Refuses, before building the `serde_json` tree, a document with more chapters than
/// [`MAX_CHAPTERS`] or with far more values than its chapters need (see [`super::budget`]).
fn check_budget(body: &str) -> Result<(), FormatError> {
    let Some(count) = super::budget::count(body) else {
        return Ok(());
    };
    if count.chapters > MAX_CHAPTERS as u64 {
        // Line 1, where the document starts: locating the chapter over the limit would cost
        // the memory per chapter this check exists to avoid.
        return Err(FormatError::TooManyChapters {
            format: F,
            line: 1,
            max: MAX_CHAPTERS,
        });
    }
    if !count.within_budget() {
        return Err(FormatError::at(
            F,
            1,
            format!(
                "{} json values for {} chapters (at most {} per chapter are read); this is not \
                 a chapters file",
                count.values,
                count.chapters,
                super::budget::VALUES_PER_CHAPTER
            ),
        ));
    }
    Ok(())
}

fn read_chapter(
    n: usize,
    item: &Value,
    line: usize,
    written: Option<String>,
) -> Result<Chapter, FormatError> {
    let err = |msg: String| FormatError::at(F, line, format!("chapter {n}: {msg}"));
    let Value::Object(obj) = item else {
        return Err(err("expected an object".into()));
    };
    let start = match obj.get("startTime") {
        Some(v) => seconds(v, "startTime").map_err(err)?,
        None => return Err(err("missing startTime".into())),
    };
    let end = match obj.get("endTime") {
        None | Some(Value::Null) => None,
        Some(v) => Some(seconds(v, "endTime").map_err(err)?),
    };
    let title = optional_string(obj, "title").map_err(err)?;
    let url = optional_string(obj, "url").map_err(err)?;
    let img = optional_string(obj, "img").map_err(err)?;
    let toc = match obj.get("toc") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            return Err(err(format!("toc must be true or false, found {other}")));
        }
    };
    let timestamp = written.unwrap_or_else(|| crate::format::common::decimal_seconds(start));
    Ok(Chapter {
        start,
        end,
        title: title.unwrap_or_default(),
        link: url.map(Link::new),
        description: None,
        image: img,
        picture: None,
        toc,
        origin: Some(Origin { line, timestamp }),
    })
}

/// A JSON number of seconds → ms, rounded to the nearest millisecond.
fn seconds(v: &Value, field: &str) -> Result<Time, String> {
    let Value::Number(n) = v else {
        return Err(format!("{field} must be a number of seconds, found {v}"));
    };
    if let Some(s) = n.as_u64() {
        return s
            .checked_mul(1000)
            .filter(|&ms| ms <= MAX_MS)
            .map(Time::from_millis)
            .ok_or_else(|| format!("{field} {n} is too large"));
    }
    let f = n
        .as_f64()
        .ok_or_else(|| format!("{field} {n} is not a number"))?;
    if !f.is_finite() {
        return Err(format!("{field} {n} is not a finite number"));
    }
    if f < 0.0 {
        return Err(format!("{field} {n} is negative"));
    }
    let ms = (f * 1000.0).round();
    if ms > MAX_MS as f64 {
        return Err(format!("{field} {n} is too large"));
    }
    // In range and non-negative, so the cast is exact.
    Ok(Time::from_millis(ms as u64))
}

fn optional_string(obj: &Map<String, Value>, key: &str) -> Result<Option<String>, String> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(format!("{key} must be a string, found {other}")),
    }
}

/// Episode metadata is informational: a wrongly typed value is dropped, not fatal.
fn string_field(obj: &Map<String, Value>, key: &str) -> Option<String> {
    match obj.get(key) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => {
            log::warn!("json: top-level {key} is not a string ({other}); ignored");
            None
        }
        None => None,
    }
}

/// serde_json's message without its ` at line L column C` tail (we put the line in front).
fn serde_message(e: &serde_json::Error) -> String {
    let full = e.to_string();
    let msg = match full.rfind(" at line ") {
        Some(i) => full.get(..i).unwrap_or(&full),
        None => &full,
    };
    format!("{msg} (column {})", e.column())
}

fn key_line(body: &str, key: &str) -> usize {
    body.find(&format!("\"{key}\""))
        .map_or(1, |off| line_of_offset(body, off))
}

/// Where a chapter object sits in the text.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Position {
    line: usize,
    /// The `startTime` value exactly as written, when it is a plain token.
    start: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Root,
    ChaptersArray,
    Chapter,
    Other,
}

struct Ctx {
    is_object: bool,
    role: Role,
    expecting_key: bool,
    last_key: Option<String>,
}

/// Finds each object in the top-level `chapters` array: its line, and the raw `startTime`
/// token. Runs only on text serde_json has accepted, so it can stay a simple tokenizer;
/// anything surprising just yields fewer positions (lines then read as 0, "unknown").
fn scan_positions(body: &str) -> Vec<Position> {
    let bytes = body.as_bytes();
    let mut stack: Vec<Ctx> = Vec::new();
    let mut out: Vec<Position> = Vec::new();
    let mut line = 1usize;
    let mut i = 0usize;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'\n' => {
                line += 1;
                i += 1;
            }
            b'"' => {
                let start = i + 1;
                let mut j = start;
                while let Some(&c) = bytes.get(j) {
                    match c {
                        b'\\' => j += 2,
                        b'"' => break,
                        _ => j += 1,
                    }
                }
                let raw = body.get(start..j.min(body.len())).unwrap_or("");
                if let Some(top) = stack.last_mut()
                    && top.is_object
                    && top.expecting_key
                {
                    top.last_key = Some(raw.to_string());
                    top.expecting_key = false;
                }
                i = j + 1;
            }
            b'{' | b'[' => {
                open(b, &mut stack, &mut out, line);
                i += 1;
            }
            b'}' | b']' => {
                stack.pop();
                i += 1;
            }
            b',' => {
                if let Some(top) = stack.last_mut() {
                    top.expecting_key = top.is_object;
                }
                i += 1;
            }
            b'-' | b'0'..=b'9' | b't' | b'f' | b'n' => {
                let start = i;
                while bytes
                    .get(i)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'+' | b'.'))
                {
                    i += 1;
                }
                if let Some(top) = stack.last()
                    && top.role == Role::Chapter
                    && top.last_key.as_deref() == Some("startTime")
                    && let Some(p) = out.last_mut()
                {
                    p.start = body.get(start..i).map(str::to_string);
                }
            }
            _ => i += 1,
        }
    }
    out
}

/// An object or array opens at `line`: its role in the document, and a new chapter
/// position when it is an element of the top-level `chapters` array.
fn open(b: u8, stack: &mut Vec<Ctx>, out: &mut Vec<Position>, line: usize) {
    let parent = stack.last();
    let role = match (b, parent) {
        (b'{', None) => Role::Root,
        (b'{', Some(p)) if p.role == Role::ChaptersArray => Role::Chapter,
        (b'[', Some(p)) if p.role == Role::Root && p.last_key.as_deref() == Some("chapters") => {
            Role::ChaptersArray
        }
        _ => Role::Other,
    };
    if role == Role::Chapter {
        out.push(Position { line, start: None });
    }
    stack.push(Ctx {
        is_object: b == b'{',
        role,
        expecting_key: b == b'{',
        last_key: None,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_and_raw_start() {
        let body = "{\"version\":\"1.2.0\",\n \"chapters\": [\n  {\"startTime\": 100,\n   \"title\": \"a,{b}\"},\n  {\"title\": \"x\", \"startTime\": 12.50}\n ]}";
        let p = scan_positions(body);
        assert_eq!(
            p,
            vec![
                Position {
                    line: 3,
                    start: Some("100".into())
                },
                Position {
                    line: 5,
                    start: Some("12.50".into())
                }
            ]
        );
    }

    #[test]
    fn nested_objects_are_not_chapters() {
        let body = r#"{"chapters":[{"startTime":1,"location":{"name":"x","startTime":9}}],"waypoints":[{"a":1}]}"#;
        let p = scan_positions(body);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].start.as_deref(), Some("1"));
    }

    #[test]
    fn seconds_rounding_and_errors() {
        let v = |s: &str| serde_json::from_str::<Value>(s).unwrap();
        assert_eq!(seconds(&v("100"), "t"), Ok(Time::from_secs(100)));
        assert_eq!(seconds(&v("12.5"), "t"), Ok(Time::from_millis(12_500)));
        assert_eq!(seconds(&v("0.1234"), "t"), Ok(Time::from_millis(123)));
        assert_eq!(seconds(&v("0.0005"), "t"), Ok(Time::from_millis(1)));
        assert_eq!(seconds(&v("100.0"), "t"), Ok(Time::from_secs(100)));
        assert!(seconds(&v("-1"), "t").unwrap_err().contains("negative"));
        assert!(seconds(&v("-0.5"), "t").unwrap_err().contains("negative"));
        assert!(seconds(&v("1e300"), "t").unwrap_err().contains("too large"));
        assert!(seconds(&v("\"100\""), "t").unwrap_err().contains("number"));
    }
}
