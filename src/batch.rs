//! The pure parts of batch processing: which sidecar belongs to an episode, how an archive is
//! split into stable shards, manifests, and the per-episode report record.
//!
//! Walking directories and touching files is the binary's job; keeping these decisions pure
//! makes them testable and identical on every machine of a sharded run.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Audio extensions batch mode picks up when walking directories (lowercase).
pub const AUDIO_EXTENSIONS: &[&str] = &["mp3", "m4a", "m4b", "mp4", "opus", "ogg", "oga", "flac"];

/// True when `path` has an extension batch mode treats as an episode.
pub fn is_audio_path(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| AUDIO_EXTENSIONS.iter().any(|a| a.eq_ignore_ascii_case(e)))
}

/// The candidate sidecar paths for an episode, in priority order.
pub fn sidecar_candidates(audio: &Path) -> Vec<PathBuf> {
    let stem = audio
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let dir = audio.parent().unwrap_or(Path::new(""));
    // Sidecar names tried for `EP.mp3` come from the format table, in its order: dedicated
    // chapter files first (most specific, least ambiguous), then show notes. The first that
    // exists wins.
    crate::format::sidecar_suffixes()
        .map(|suffix| dir.join(format!("{stem}{suffix}")))
        .collect()
}

/// Expands a `--chapters-pattern` for one episode. Placeholders: `{dir}` (the episode's
/// folder), `{stem}` (file name without extension), `{name}` (file name), `{ext}`.
pub fn expand_pattern(pattern: &str, audio: &Path) -> PathBuf {
    let dir = audio
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let lossy = |o: Option<&std::ffi::OsStr>| o.map(|s| s.to_string_lossy().into_owned());
    let stem = lossy(audio.file_stem()).unwrap_or_default();
    let name = lossy(audio.file_name()).unwrap_or_default();
    let ext = lossy(audio.extension()).unwrap_or_default();
    PathBuf::from(
        pattern
            .replace("{dir}", &dir.to_string_lossy())
            .replace("{stem}", &stem)
            .replace("{name}", &name)
            .replace("{ext}", &ext),
    )
}

/// A `--shard K/N` selection: this machine processes the episodes whose stable key hashes to
/// `K-1` modulo `N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 1-based shard index.
    pub index: u32,
    /// Number of shards.
    pub count: u32,
}

/// Errors in batch inputs that are not about one episode.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum BatchError {
    /// `--shard` is not `K/N` with 1 ≤ K ≤ N.
    #[error("--shard {0:?}: expected K/N with 1 <= K <= N (e.g. 2/8)")]
    BadShard(String),
    /// A manifest line is malformed.
    #[error("{file} line {line}: {message}")]
    Manifest {
        /// Manifest path as given.
        file: String,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
}

impl std::str::FromStr for Shard {
    type Err = BatchError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BatchError::BadShard(s.to_string());
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let index: u32 = k.trim().parse().map_err(|_| bad())?;
        let count: u32 = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl Shard {
    /// Whether the episode with this key belongs to this shard. The key should not depend on
    /// where the archive is mounted (use the path relative to the root that was walked), so
    /// every machine of a sharded run agrees.
    pub fn contains(&self, key: &str) -> bool {
        fnv1a(key.as_bytes()) % u64::from(self.count) == u64::from(self.index - 1)
    }
}

/// FNV-1a 64: tiny, stable across platforms and releases (unlike `DefaultHasher`).
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// One episode to process: its audio and, if known up front, its chapters file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The audio file.
    pub audio: PathBuf,
    /// The chapters file, when a manifest names it.
    pub chapters: Option<PathBuf>,
    /// Stable shard key (relative path or manifest text).
    pub key: String,
}

/// Parses a manifest: CSV (`audio,chapters` per line, optional header, `#` comments, quoted
/// fields) or JSON Lines (`{"audio": "...", "chapters": "..."}`). Relative paths are resolved
/// against `base` (the manifest's folder). For a large manifest, [`ManifestReader`] gives the
/// same entries one at a time without holding them.
pub fn parse_manifest(
    file: &str,
    text: &str,
    base: &Path,
    json_lines: bool,
) -> Result<Vec<Entry>, BatchError> {
    let mut parser = ManifestParser::new(file, base, json_lines);
    let mut entries = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        if let Some(entry) = parser.line(i + 1, raw)? {
            entries.push(entry);
        }
    }
    Ok(entries)
}

/// The longest manifest line [`ManifestReader`] accepts (a path pair is far shorter; a longer
/// "line" is a binary file or a missing newline, and is not buffered whole).
pub const MANIFEST_LINE_CAP: usize = 64 << 10;

/// Parses a manifest one line at a time (the state is only "has a record been seen yet", for
/// the optional CSV header).
#[derive(Debug, Clone)]
pub struct ManifestParser {
    file: String,
    base: PathBuf,
    json_lines: bool,
    first_record: bool,
}

impl ManifestParser {
    /// A parser for the manifest `file` (as named in errors) whose relative paths are resolved
    /// against `base`.
    pub fn new(file: &str, base: &Path, json_lines: bool) -> Self {
        ManifestParser {
            file: file.to_string(),
            base: base.to_path_buf(),
            json_lines,
            first_record: true,
        }
    }

    fn error(&self, line: usize, message: String) -> BatchError {
        BatchError::Manifest {
            file: self.file.clone(),
            line,
            message,
        }
    }

    /// The entry on 1-based line `line` (`None` for blank lines, comments and the header).
    pub fn line(&mut self, line: usize, raw: &str) -> Result<Option<Entry>, BatchError> {
        #[derive(Deserialize)]
        struct JsonEntry {
            audio: String,
            chapters: Option<String>,
        }
        let raw = raw.trim_start_matches('\u{feff}').trim();
        if raw.is_empty() || raw.starts_with('#') {
            return Ok(None);
        }
        let (audio, chapters) = if self.json_lines {
            let e: JsonEntry =
                serde_json::from_str(raw).map_err(|e| self.error(line, e.to_string()))?;
            (e.audio, e.chapters)
        } else {
            let fields = split_csv(raw).map_err(|m| self.error(line, m))?;
            let mut it = fields.into_iter();
            let audio = it.next().unwrap_or_default();
            let chapters = it.next();
            // The header is optional, and may follow comment lines.
            if std::mem::take(&mut self.first_record) && audio.eq_ignore_ascii_case("audio") {
                return Ok(None);
            }
            (audio, chapters)
        };
        self.first_record = false;
        // An empty chapters field means "not given" in both formats: fall back to the pattern
        // or the sidecar search, rather than to the manifest's folder.
        let chapters = chapters.filter(|c| !c.trim().is_empty());
        if audio.is_empty() {
            return Err(self.error(line, "the audio path is empty".to_string()));
        }
        Ok(Some(Entry {
            audio: self.base.join(&audio),
            chapters: chapters.map(|c| self.base.join(c)),
            key: audio,
        }))
    }
}

/// The entries of a manifest read from `reader` one line at a time: memory stays the same
/// whatever the manifest's length. A line longer than [`MANIFEST_LINE_CAP`], bytes that are
/// not UTF-8 and read errors are errors naming the line; the reader stops after the first.
#[derive(Debug)]
pub struct ManifestReader<R> {
    reader: R,
    parser: ManifestParser,
    line: usize,
    buf: String,
    done: bool,
}

impl<R: std::io::BufRead> ManifestReader<R> {
    /// Reads the manifest `file` (as named in errors) from `reader`; see [`ManifestParser::new`].
    pub fn new(reader: R, file: &str, base: &Path, json_lines: bool) -> Self {
        ManifestReader {
            reader,
            parser: ManifestParser::new(file, base, json_lines),
            line: 0,
            buf: String::new(),
            done: false,
        }
    }

    /// The next line, or `None` at the end.
    fn next_line(&mut self) -> Result<Option<()>, BatchError> {
        use std::io::{BufRead, Read};
        self.buf.clear();
        self.line += 1;
        let cap = MANIFEST_LINE_CAP as u64 + 1;
        let n = (&mut self.reader)
            .take(cap)
            .read_line(&mut self.buf)
            .map_err(|e| self.parser.error(self.line, e.to_string()))?;
        if n == 0 {
            return Ok(None);
        }
        if n as u64 >= cap && !self.buf.ends_with('\n') {
            let message = format!("the line is longer than {MANIFEST_LINE_CAP} bytes");
            return Err(self.parser.error(self.line, message));
        }
        Ok(Some(()))
    }
}

impl<R: std::io::BufRead> Iterator for ManifestReader<R> {
    type Item = Result<Entry, BatchError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            let step = self.next_line().and_then(|more| match more {
                None => Ok(None),
                Some(()) => self.parser.line(self.line, &self.buf).map(Some),
            });
            match step {
                Ok(None) => self.done = true,
                Ok(Some(None)) => {}
                Ok(Some(Some(entry))) => return Some(Ok(entry)),
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
        None
    }
}

/// Splits one CSV record (RFC 4180 quoting, no embedded newlines); fields are trimmed.
pub(crate) fn split_csv(line: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut cur = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cur.push('"');
            }
            (true, '"') => quoted = false,
            (false, '"') if cur.trim().is_empty() => {
                cur.clear();
                quoted = true;
            }
            (false, ',') => fields.push(std::mem::take(&mut cur).trim().to_string()),
            (_, c) => cur.push(c),
        }
    }
    if quoted {
        return Err("unterminated quoted field".to_string());
    }
    fields.push(cur.trim().to_string());
    Ok(fields)
}

/// What happened to one episode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Valid (check mode), nothing written.
    Ok,
    /// Chapters written.
    Written,
    /// Embedded chapters already equal the sidecar; not rewritten.
    Unchanged,
    /// Validation failed; the file was not touched.
    Invalid,
    /// Audio or chapters could not be read (or no sidecar was found).
    Unreadable,
}

impl Status {
    /// All statuses in summary-table order.
    pub const ALL: [Status; 5] = [
        Status::Ok,
        Status::Written,
        Status::Unchanged,
        Status::Invalid,
        Status::Unreadable,
    ];

    /// Lowercase name, as in the report.
    pub fn name(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Written => "written",
            Status::Unchanged => "unchanged",
            Status::Invalid => "invalid",
            Status::Unreadable => "unreadable",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_parsing_and_partition() {
        assert!("0/3".parse::<Shard>().is_err());
        assert!("4/3".parse::<Shard>().is_err());
        assert!("x".parse::<Shard>().is_err());
        let shards: Vec<Shard> = (1..=4).map(|k| format!("{k}/4").parse().unwrap()).collect();
        for i in 0..1000 {
            let key = format!("season{}/episode-{i}.mp3", i % 7);
            let owners = shards.iter().filter(|s| s.contains(&key)).count();
            assert_eq!(owners, 1, "{key}");
        }
    }

    #[test]
    fn shard_hash_is_stable() {
        // Changing the hash would silently re-split every user's archive. Reference value
        // computed independently with a Python FNV-1a 64.
        assert_eq!(fnv1a(b"episode-1.mp3"), 0x1e1a_1c9e_164a_d688);
    }

    #[test]
    fn sidecars_in_order() {
        let c = sidecar_candidates(Path::new("show/ep1.mp3"));
        assert_eq!(c[0], Path::new("show/ep1.chapters.json"));
        assert_eq!(c.last().unwrap(), Path::new("show/ep1.md"));
        assert_eq!(
            expand_pattern("{dir}/notes/{stem}.txt", Path::new("a/b/ep.mp3")),
            Path::new("a/b/notes/ep.txt")
        );
        assert_eq!(
            expand_pattern("{dir}/{name}.{ext}.vtt", Path::new("ep.m4a")),
            Path::new("./ep.m4a.m4a.vtt")
        );
        // The documented order: dedicated chapter files before show notes, longer
        // (more specific) suffixes before the shorter ones they end with.
        let suffixes: Vec<&str> = crate::format::sidecar_suffixes().collect();
        for (i, a) in suffixes.iter().enumerate() {
            for b in &suffixes[..i] {
                assert!(!a.ends_with(b), "{a} must come before {b}");
            }
        }
    }

    #[test]
    fn manifests() {
        let csv = "audio,chapters\n# comment\n\"a, b.mp3\",a.json\nc.mp3\n";
        let e = parse_manifest("m.csv", csv, Path::new("/x"), false).unwrap();
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].audio, Path::new("/x/a, b.mp3"));
        assert_eq!(e[0].chapters.as_deref(), Some(Path::new("/x/a.json")));
        assert_eq!(e[1].chapters, None);
        let jl = "{\"audio\":\"a.mp3\",\"chapters\":\"a.txt\"}\n{\"audio\":\"b.m4a\"}\n";
        let e = parse_manifest("m.jsonl", jl, Path::new(""), true).unwrap();
        assert_eq!(e[1].audio, Path::new("b.m4a"));
        // The header may follow comments; an empty chapters field is "not given" in both.
        let csv = "# exported 2024-05-01\nAudio,Chapters\nep.mp3,\n";
        let e = parse_manifest("m.csv", csv, Path::new("d"), false).unwrap();
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].chapters, None);
        assert_eq!(e[0].key, "ep.mp3");
        let jl = "{\"audio\":\"a.mp3\",\"chapters\":\"\"}\n";
        let e = parse_manifest("m.jsonl", jl, Path::new("d"), true).unwrap();
        assert_eq!(e[0].chapters, None);
        // A header is only recognised before the first record.
        let csv = "a.mp3\naudio\n";
        assert_eq!(
            parse_manifest("m.csv", csv, Path::new(""), false)
                .unwrap()
                .len(),
            2
        );
        let bad = parse_manifest("m.jsonl", "{\n", Path::new(""), true).unwrap_err();
        assert!(bad.to_string().starts_with("m.jsonl line 1:"), "{bad}");
    }

    #[test]
    fn the_streamed_manifest_gives_the_same_entries_and_names_bad_lines() {
        let csv = "audio,chapters\n# c\n\"a, b.mp3\",a.json\n\nc.mp3\n";
        let read = |text: &'static [u8]| {
            ManifestReader::new(text, "m.csv", Path::new("/x"), false).collect::<Vec<_>>()
        };
        let streamed: Vec<Entry> = read(csv.as_bytes())
            .into_iter()
            .map(Result::unwrap)
            .collect();
        let whole = parse_manifest("m.csv", csv, Path::new("/x"), false).unwrap();
        assert_eq!(streamed, whole);
        // Bad UTF-8 on line 2: the first entry, then an error naming line 2, then nothing.
        let got = read(b"a.mp3\n\xff\xfe.mp3\nc.mp3\n");
        assert_eq!(got.len(), 2);
        let err = got[1].as_ref().unwrap_err().to_string();
        assert!(err.starts_with("m.csv line 2:"), "{err}");
        // A line past the cap is refused without being buffered whole.
        let long: &'static [u8] = Box::leak(vec![b'a'; MANIFEST_LINE_CAP + 10].into_boxed_slice());
        let err = read(long)[0].as_ref().unwrap_err().to_string();
        assert!(err.contains("line 1: the line is longer than"), "{err}");
        // No newline at the end of the last line is fine.
        assert_eq!(read(b"a.mp3\nb.mp3").len(), 2);
    }
}

/// One line of the `--report` JSON Lines file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// The audio file.
    pub path: String,
    /// The chapters file used, if one was found.
    pub chapters_file: Option<String>,
    /// What happened.
    pub status: Status,
    /// Exact duration in seconds, when the audio was measured.
    pub duration: Option<f64>,
    /// Chapters in the chapters file.
    pub chapters: usize,
    /// Validation diagnostics (errors and warnings).
    pub diagnostics: Vec<crate::validate::Diagnostic>,
    /// Bytes written to disk (0 unless `written`).
    pub bytes_written: u64,
    /// Wall time spent on this episode, in milliseconds.
    pub elapsed_ms: u64,
    /// Why the episode is unreadable.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error: Option<String>,
}
