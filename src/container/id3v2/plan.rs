//! Chapters → ID3v2 frames → a [`Plan`] over the original tag region. Pure functions.
//!
//! Chapter frames are built by hand rather than with the id3 crate: it writes WXXX URLs
//! NUL-terminated and as raw UTF-8, wraps the CTOC count at 256, and re-encoding its decoded
//! frames would not keep the other frames byte for byte. Here every frame we do not own is
//! written back exactly as read (only its size field is re-encoded, which is identity for a
//! well-formed tag).

use super::chapters::{
    APIC_COVER, HEADER_LEN, ParsedTag, RawFrame, decode_text, encode_frame_header, parse_tag,
    split_terminated, terminator_len, text_frame_value, to_syncsafe,
};
use super::{Id3Error, Id3Options, MAX_TAG_SIZE};
use crate::chapter::ChapterList;
use crate::time::{SampleTime, Time};
use crate::write::{Patch, Piece, Plan};
use std::sync::Arc;

/// Element ID of the one table of contents we write.
pub(crate) const TOC_ID: &str = "toc";
/// Title of that table of contents (Apple Podcasts wants one).
pub(crate) const TOC_TITLE: &str = "Chapters";
/// Most entries a CTOC can count (its entry count is one byte).
pub const MAX_CHAPTERS: usize = crate::limits::ID3_CTOC_MAX_ENTRIES;
/// Byte-offset fields of CHAP set to "unused": readers use the times.
const NO_OFFSET: u32 = 0xFFFF_FFFF;
/// Changed byte runs closer than this are patched as one region (fewer writes, one journal
/// entry) — rewriting a few unchanged bytes costs less than another seek.
const PATCH_MERGE_GAP: usize = 256;

/// What to do to the tag.
pub(crate) enum Action<'a> {
    /// Replace the chapters with `list`, ending the last one at `duration`.
    Write {
        list: &'a ChapterList,
        duration: SampleTime,
    },
    /// Remove CHAP and CTOC frames.
    Strip,
}

/// Text as an ID3 string: ASCII as Latin-1 (what every reader handles), anything else as
/// UTF-16 with a BOM in v2.3 or UTF-8 in v2.4 — the same choice ffmpeg makes.
fn encode_string(s: &str, major: u8) -> (u8, Vec<u8>) {
    if s.is_ascii() {
        (0, s.as_bytes().to_vec())
    } else if major == 4 {
        (3, s.as_bytes().to_vec())
    } else {
        let mut v = vec![0xFF, 0xFE];
        for u in s.encode_utf16() {
            v.extend_from_slice(&u.to_le_bytes());
        }
        (1, v)
    }
}

/// Encodes `s` in a given encoding (used when converting frames between versions).
fn encode_in(enc: u8, s: &str) -> Vec<u8> {
    match enc {
        0 => s
            .chars()
            .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
            .collect(),
        1 => {
            let mut v = vec![0xFF, 0xFE];
            for u in s.encode_utf16() {
                v.extend_from_slice(&u.to_le_bytes());
            }
            v
        }
        2 => s.encode_utf16().flat_map(|u| u.to_be_bytes()).collect(),
        _ => s.as_bytes().to_vec(),
    }
}

fn text_frame(id: &[u8; 4], s: &str, major: u8) -> RawFrame {
    let (enc, bytes) = encode_string(s, major);
    let mut data = Vec::with_capacity(bytes.len() + 1);
    data.push(enc);
    data.extend_from_slice(&bytes);
    RawFrame::new(id, data)
}

/// `WXXX`: the label as description, then the URL in Latin-1 with no terminator (a trailing
/// NUL ends up in the URL some players open).
fn wxxx_frame(url: &str, label: &str, major: u8) -> RawFrame {
    let (enc, desc) = encode_string(label, major);
    let mut data = Vec::with_capacity(desc.len() + url.len() + 3);
    data.push(enc);
    data.extend_from_slice(&desc);
    data.extend(std::iter::repeat_n(0u8, terminator_len(enc)));
    data.extend_from_slice(url.as_bytes());
    RawFrame::new(b"WXXX", data)
}

/// `APIC` for a chapter image: Latin-1 MIME type (`-->` for a linked URL), picture type 3
/// (front cover, the one AntennaPod prefers when a chapter has several), an empty Latin-1
/// description, then the bytes (`image`, shared as the frame's tail, or the URL `linked`).
/// Latin-1 fields only, so the frame reads the same in v2.3 and v2.4.
fn apic_frame(mime: &str, image: Option<&Arc<[u8]>>, linked: &[u8]) -> RawFrame {
    let mut out = Vec::with_capacity(linked.len() + mime.len() + 4);
    out.push(0);
    out.extend_from_slice(mime.as_bytes());
    out.push(0);
    out.push(APIC_COVER);
    out.push(0);
    out.extend_from_slice(linked);
    let mut frame = RawFrame::new(b"APIC", out);
    frame.tail = image.cloned();
    frame
}

fn is_http(s: &str) -> bool {
    let lower = s.get(..8).unwrap_or(s).to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

/// Makes a URL safe for the Latin-1 `WXXX` field: an ASCII URL is kept exactly as written;
/// otherwise the `url` crate turns the host into punycode and percent-encodes the rest. A
/// string it cannot parse gets its non-ASCII bytes, spaces and controls percent-encoded.
pub fn ascii_url(url: &str) -> String {
    if let Ok(ascii) = crate::chapter::ascii_url(url) {
        return ascii;
    }
    let mut out = String::with_capacity(url.len() * 3);
    for c in url.chars() {
        if c.is_ascii_graphic() {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

/// Where a chapter came from, for error messages: `chapter 3 (line 14)`.
fn chapter_label(list: &ChapterList, i: usize) -> String {
    match list.chapters.get(i).and_then(|c| c.line()) {
        Some(line) => format!("chapter {} (line {line})", i + 1),
        None => format!("chapter {}", i + 1),
    }
}

fn check_text(list: &ChapterList, i: usize, field: &'static str, s: &str) -> Result<(), Id3Error> {
    if s.contains('\0') {
        return Err(Id3Error::NulInText {
            chapter: chapter_label(list, i),
            field,
        });
    }
    Ok(())
}

/// Builds the CTOC and CHAP frames for `list`, checking everything that would otherwise make
/// a broken tag: count, order, times that fit 32 bits and lie before the end.
pub(crate) fn chapter_frames(
    list: &ChapterList,
    duration: SampleTime,
    major: u8,
    descriptions: bool,
) -> Result<Vec<RawFrame>, Id3Error> {
    if list.is_empty() {
        return Err(Id3Error::NoChapters);
    }
    if list.len() > MAX_CHAPTERS {
        return Err(Id3Error::TooManyChapters { count: list.len() });
    }
    if duration.sample_rate == 0 {
        return Err(Id3Error::BadDuration);
    }
    let total = duration.to_time_round();
    let total_ms = u32::try_from(total.as_millis()).map_err(|_| Id3Error::TimeTooLarge {
        what: "the audio length".into(),
        time: total,
    })?;
    let mut prev: Option<Time> = None;
    let mut chaps = Vec::with_capacity(list.len());
    let mut toc_children: Vec<String> = Vec::new();
    for (i, ch) in list.chapters.iter().enumerate() {
        if let Some(p) = prev
            && ch.start <= p
        {
            return Err(Id3Error::NotAscending {
                chapter: chapter_label(list, i),
                start: ch.start,
                previous: p,
            });
        }
        if ch.start >= total {
            return Err(Id3Error::StartPastEnd {
                chapter: chapter_label(list, i),
                start: ch.start,
                end: total,
            });
        }
        prev = Some(ch.start);
        // Below total_ms, so it fits.
        let start = u32::try_from(ch.start.as_millis()).unwrap_or(u32::MAX);
        let end = match list.chapters.get(i + 1) {
            Some(next) => u32::try_from(next.start.as_millis()).unwrap_or(total_ms),
            None => total_ms,
        }
        .min(total_ms);
        check_text(list, i, "title", &ch.title)?;
        let eid = format!("chp{i}");
        let mut data = Vec::with_capacity(64 + ch.title.len());
        data.extend_from_slice(eid.as_bytes());
        data.push(0);
        data.extend_from_slice(&start.to_be_bytes());
        data.extend_from_slice(&end.to_be_bytes());
        data.extend_from_slice(&NO_OFFSET.to_be_bytes());
        data.extend_from_slice(&NO_OFFSET.to_be_bytes());
        let mut tail = None;
        for sub in chap_subframes(list, i, major, descriptions)? {
            // The image (the last sub-frame) stays shared: it becomes the CHAP's own tail.
            let len = sub.content_len();
            encode_frame_header(&sub.id, len, sub.flags, major, &mut data);
            data.extend_from_slice(&sub.data);
            tail = sub.tail;
        }
        if ch.toc {
            toc_children.push(eid);
        }
        let mut chap = RawFrame::new(b"CHAP", data);
        chap.tail = tail;
        chaps.push(chap);
    }
    if toc_children.is_empty() {
        return Err(Id3Error::NoVisibleChapters);
    }
    let mut frames = vec![ctoc_frame(&toc_children, major)?];
    frames.extend(chaps);
    Ok(frames)
}

/// The sub-frames of chapter `i`'s `CHAP`: `TIT2`, optional `TIT3`, `WXXX`, `APIC`.
fn chap_subframes(
    list: &ChapterList,
    i: usize,
    major: u8,
    descriptions: bool,
) -> Result<Vec<RawFrame>, Id3Error> {
    let Some(ch) = list.chapters.get(i) else {
        return Ok(Vec::new());
    };
    let mut subs = vec![text_frame(b"TIT2", &ch.title, major)];
    if descriptions && let Some(d) = ch.description.as_deref().filter(|d| !d.is_empty()) {
        check_text(list, i, "description", d)?;
        subs.push(text_frame(b"TIT3", d, major));
    }
    if let Some(link) = &ch.link {
        let label = link.label.as_deref().unwrap_or("");
        check_text(list, i, "link label", label)?;
        subs.push(wxxx_frame(&ascii_url(&link.url), label, major));
    }
    // Last: only the last sub-frame may have a tail (see `chapter_frames`).
    if let Some(pic) = &ch.picture {
        subs.push(apic_frame(&pic.mime, Some(&pic.data), &[]));
    } else if let Some(url) = ch.image.as_deref().filter(|u| is_http(u)) {
        subs.push(apic_frame("-->", None, ascii_url(url).as_bytes()));
    }
    for s in subs
        .iter()
        .filter(|s| major == 4 && s.content_len() >= FFMPEG_V24_SUBFRAME_LIMIT)
    {
        // Only reached with an explicit version 4 (or a tag that cannot be converted): the
        // default writes v2.3 then. Validation reports it as `ffmpeg-drops-chapter`.
        log::debug!(
            "{}: its {} in this id3v2.4 tag holds {} bytes; ffmpeg 5.x drops it",
            chapter_label(list, i),
            s.id_str(),
            s.content_len()
        );
    }
    Ok(subs)
}

/// The top-level ordered `CTOC` listing `children` (element IDs), titled [`TOC_TITLE`].
fn ctoc_frame(children: &[String], major: u8) -> Result<RawFrame, Id3Error> {
    let mut toc = Vec::with_capacity(16 + children.len() * 6);
    toc.extend_from_slice(TOC_ID.as_bytes());
    toc.push(0);
    toc.push(0x03); // top-level, ordered
    toc.push(
        u8::try_from(children.len()).map_err(|_| Id3Error::TooManyChapters {
            count: children.len(),
        })?,
    );
    for c in children {
        toc.extend_from_slice(c.as_bytes());
        toc.push(0);
    }
    text_frame(b"TIT2", TOC_TITLE, major).encode(major, &mut toc);
    Ok(RawFrame::new(b"CTOC", toc))
}

/// Sub-frames of a v2.4 `CHAP` this large or larger are lost by ffmpeg 5.x (measured with
/// ffprobe 5.1): it reads their sizes as plain integers, not syncsafe ones, so the size of a
/// 128-byte sub-frame sends it past the frame and the whole chapter is dropped.
pub const FFMPEG_V24_SUBFRAME_LIMIT: usize = 128;

/// A chapter sub-frame that ffmpeg 5.x cannot read in an ID3v2.4 tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Oversized {
    /// 0-based index of the chapter in the list.
    pub chapter: usize,
    /// The sub-frame (`TIT2`, `TIT3`, `WXXX`, `APIC`: every chapter image is this large).
    pub frame: String,
    /// Its content size in bytes (at least [`FFMPEG_V24_SUBFRAME_LIMIT`]).
    pub bytes: usize,
}

/// The sub-frames that `list` would get in an ID3v2.4 tag and that ffmpeg 5.x would lose
/// its chapter over (see [`FFMPEG_V24_SUBFRAME_LIMIT`]). A chapter whose text cannot be
/// written at all (a NUL) is left to the writer to refuse.
pub fn v24_oversized(list: &ChapterList, descriptions: bool) -> Vec<Oversized> {
    let mut out = Vec::new();
    for i in 0..list.chapters.len() {
        for f in chap_subframes(list, i, 4, descriptions).unwrap_or_default() {
            if f.content_len() >= FFMPEG_V24_SUBFRAME_LIMIT {
                out.push(Oversized {
                    chapter: i,
                    frame: f.id_str().to_string(),
                    bytes: f.content_len(),
                });
            }
        }
    }
    out
}

/// The tag version a plan writes. Asked for: that. Otherwise a v2.4 tag stays v2.4 (its
/// frames are kept byte for byte) unless ffmpeg would then drop a chapter being written and
/// the tag converts cleanly to v2.3 (as mutagen's `update_to_v23` does); anything else, or
/// no tag, gets v2.3. A chapter image (an `APIC` sub-frame) is practically always that large,
/// so a tag with images becomes v2.3 unless asked or unconvertible.
pub(crate) fn choose_version(
    parsed: Option<&ParsedTag>,
    action: &Action<'_>,
    opts: &Id3Options,
) -> Result<u8, Id3Error> {
    let old_major = parsed.map(|p| p.header.major);
    match (action, opts.version) {
        (_, Some(v @ (3 | 4))) => Ok(v),
        (_, Some(v)) => Err(Id3Error::BadVersionOption { version: v }),
        (Action::Write { list, .. }, None) if old_major == Some(4) => {
            let oversized = v24_oversized(list, opts.descriptions);
            let convertible =
                parsed.is_some_and(|p| convert_frames(p.frames.clone(), p.major, 3).is_ok());
            if oversized.is_empty() || !convertible {
                return Ok(4);
            }
            log::info!(
                "writing id3v2.3 instead of keeping the id3v2.4 tag: ffmpeg 5.x would drop {} \
                 chapter(s) from it (--id3v2 4 keeps v2.4)",
                oversized.len()
            );
            Ok(3)
        }
        (_, None) if old_major == Some(4) => Ok(4),
        _ => Ok(3),
    }
}

/// Status flags (tag-alter, file-alter, read-only) between the v2.3 and v2.4 layouts.
fn convert_flags(f: [u8; 2], from: u8, to: u8, id: &str) -> Result<[u8; 2], Id3Error> {
    let unsupported = if from == 3 {
        f[1] & 0xE0 != 0
    } else {
        f[1] & 0x4C != 0
    };
    if unsupported {
        return Err(Id3Error::Unsupported {
            detail: format!(
                "converting frame {id} (compressed, encrypted or grouped) between id3v2.{from} \
                 and id3v2.{to}; keep the tag's version instead"
            ),
        });
    }
    Ok(if from == 3 {
        [f[0] >> 1 & 0x70, 0]
    } else {
        [(f[0] << 1) & 0xE0, 0]
    })
}

/// Re-encodes text for v2.3, which knows neither UTF-8 (3) nor UTF-16BE without BOM (2), nor
/// NUL-separated multiple values (joined with `/`, as v2.3 readers expect).
fn to_v23_text(enc: u8, bytes: &[u8], multi: bool) -> (u8, Vec<u8>) {
    let s = decode_text(enc, bytes);
    let s = if multi {
        s.trim_end_matches('\0').replace('\0', "/")
    } else {
        s
    };
    let new_enc = if enc == 0 || s.is_ascii() { 0 } else { 1 };
    (new_enc, encode_in(new_enc, &s))
}

/// Converts one string field at the start of `rest` (terminated) and returns the rest.
fn convert_field<'a>(enc: u8, new_enc: u8, rest: &'a [u8], out: &mut Vec<u8>) -> &'a [u8] {
    let (s, after) = split_terminated(enc, rest);
    out.extend_from_slice(&encode_in(new_enc, &decode_text(enc, s)));
    out.extend(std::iter::repeat_n(0u8, terminator_len(new_enc)));
    after
}

/// Content of a v2.4 frame made valid for v2.3, for the frame kinds whose layout we know.
fn content_to_v23(id: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let Some((&enc, rest)) = data.split_first() else {
        return data.to_vec();
    };
    let has_enc = id[0] == b'T'
        || matches!(
            id,
            b"WXXX" | b"COMM" | b"USLT" | b"APIC" | b"GEOB" | b"USER"
        );
    if !has_enc {
        return data.to_vec();
    }
    let multi_value = id[0] == b'T' && id != b"TXXX" && {
        let (_, after) = split_terminated(enc, rest);
        after.iter().any(|&b| b != 0)
    };
    if enc <= 1 && !multi_value {
        return data.to_vec();
    }
    let new_enc = if decode_text(enc, rest).is_ascii() && enc != 1 {
        0
    } else {
        1
    };
    let mut out = Vec::with_capacity(data.len() * 2);
    match id {
        b"TXXX" | b"WXXX" => {
            out.push(new_enc);
            let after = convert_field(enc, new_enc, rest, &mut out);
            if id == b"WXXX" {
                out.extend_from_slice(after);
            } else {
                let value = decode_text(enc, after);
                let value = value.trim_end_matches('\0').replace('\0', "/");
                out.extend_from_slice(&encode_in(new_enc, &value));
            }
        }
        b"COMM" | b"USLT" | b"USER" => {
            let (Some(lang), Some(after)) = (rest.get(..3), rest.get(3..)) else {
                return data.to_vec();
            };
            out.push(new_enc);
            out.extend_from_slice(lang);
            if id == b"USER" {
                out.extend_from_slice(&encode_in(new_enc, &decode_text(enc, after)));
            } else {
                let text = convert_field(enc, new_enc, after, &mut out);
                out.extend_from_slice(&encode_in(new_enc, &decode_text(enc, text)));
            }
        }
        b"APIC" | b"GEOB" => {
            out.push(new_enc);
            let (mime, after) = split_terminated(0, rest);
            out.extend_from_slice(mime);
            out.push(0);
            let after = if id == b"APIC" {
                let Some((&kind, after)) = after.split_first() else {
                    return data.to_vec();
                };
                out.push(kind);
                after
            } else {
                convert_field(enc, new_enc, after, &mut out)
            };
            let after = convert_field(enc, new_enc, after, &mut out);
            out.extend_from_slice(after);
        }
        _ => {
            let (e, bytes) = to_v23_text(enc, rest, true);
            out.push(e);
            out.extend_from_slice(&bytes);
        }
    }
    out
}

/// Converts frames from `from` to `to` layout (3 ⇄ 4). Content is kept as is except where
/// v2.3 cannot hold it (UTF-8 text, multiple values) and the v2.4 recording date, which
/// becomes `TYER`/`TDAT`/`TIME`.
fn convert_frames(frames: Vec<RawFrame>, from: u8, to: u8) -> Result<Vec<RawFrame>, Id3Error> {
    if from == to {
        return Ok(frames);
    }
    let mut out = Vec::with_capacity(frames.len());
    for mut f in frames {
        if from == 4 && f.flags[1] & 0x01 != 0 && f.flags[1] & 0x4C == 0 {
            // A data-length indicator without compression/encryption: just drop it.
            f.data = f.data.get(4..).unwrap_or(&[]).to_vec();
            f.flags[1] &= !0x01;
        }
        let flags = convert_flags(f.flags, from, to, f.id_str())?;
        if to == 3 {
            if &f.id == b"TDRC" || &f.id == b"TDOR" {
                out.extend(date_to_v23(&f, flags));
                continue;
            }
            f.data = content_to_v23(&f.id, &f.data);
        }
        f.flags = flags;
        out.push(f);
    }
    Ok(out)
}

/// `TDRC` (`yyyy-MM-ddTHH:mm:ss`) → `TYER` `yyyy`, `TDAT` `DDMM`, `TIME` `HHMM`;
/// `TDOR` → `TORY`.
fn date_to_v23(f: &RawFrame, flags: [u8; 2]) -> Vec<RawFrame> {
    let value = text_frame_value(&f.data).unwrap_or_default();
    let digits = |r: std::ops::Range<usize>| {
        value
            .get(r)
            .filter(|s| s.bytes().all(|b| b.is_ascii_digit()))
            .map(str::to_string)
    };
    let mut out = Vec::new();
    let mut push = |id: &[u8; 4], s: String| {
        let mut fr = text_frame(id, &s, 3);
        fr.flags = flags;
        out.push(fr);
    };
    let Some(year) = digits(0..4) else {
        return out;
    };
    if &f.id == b"TDOR" {
        push(b"TORY", year);
        return out;
    }
    push(b"TYER", year);
    if let (Some(m), Some(d)) = (digits(5..7), digits(8..10)) {
        push(b"TDAT", format!("{d}{m}"));
        if let (Some(h), Some(min)) = (digits(11..13), digits(14..16)) {
            push(b"TIME", format!("{h}{min}"));
        }
    }
    out
}

/// The ms value of a `TLEN` frame, if it holds a plain integer.
fn tlen_value(f: &RawFrame, major: u8) -> Option<u64> {
    text_frame_value(f.content(major)?)?.trim().parse().ok()
}

/// Plans the change of the tag region. `region` holds the old tag (from byte 0 to its end),
/// or is `None` when the file has no ID3v2 tag; `file_len` is the whole file's length.
pub(crate) fn plan_region(
    region: Option<&[u8]>,
    file_len: u64,
    action: Action<'_>,
    opts: &Id3Options,
) -> Result<Plan, Id3Error> {
    let parsed: Option<ParsedTag> = region.map(parse_tag).transpose()?;
    if let Some((offset, detail)) = parsed.as_ref().and_then(|p| p.damage.clone()) {
        return Err(Id3Error::Damaged { offset, detail });
    }
    let old_end = parsed.as_ref().map_or(0, |p| p.header.total_len());
    if region.is_some_and(|r| (r.len() as u64) < old_end) {
        return Err(Id3Error::Damaged {
            offset: 0,
            detail: format!("the tag (with its footer) needs {old_end} bytes"),
        });
    }
    if old_end > file_len {
        return Err(Id3Error::Damaged {
            offset: 0,
            detail: format!("the tag claims {old_end} bytes but the file has {file_len}"),
        });
    }
    let old_major = parsed.as_ref().map(|p| p.header.major);
    let target = choose_version(parsed.as_ref(), &action, opts)?;
    let (frames_major, frames) = match parsed {
        Some(p) => (p.major, p.frames),
        None => (target, Vec::new()),
    };
    if matches!(action, Action::Strip)
        && !frames.iter().any(|f| &f.id == b"CHAP" || &f.id == b"CTOC")
        && opts.version.is_none_or(|v| Some(v) == old_major)
    {
        return Ok(Plan::Unchanged);
    }
    let frames = convert_frames(frames, frames_major, target)?;
    let mut out: Vec<RawFrame> = frames
        .into_iter()
        .filter(|f| &f.id != b"CHAP" && &f.id != b"CTOC")
        .collect();
    if matches!(action, Action::Strip) && out.iter().all(|f| &f.id == b"TLEN") {
        // Nothing is left but the length `write` adds: the tag is chapmark's own, so it goes
        // whole, and write + strip gives back the original bytes of an untagged file.
        return Ok(Plan::Rebuild(vec![Piece::Copy {
            offset: old_end,
            len: file_len - old_end,
        }]));
    }
    if let Action::Write { list, duration } = action {
        let chapters = chapter_frames(list, duration, target, opts.descriptions)?;
        set_tlen(&mut out, duration.to_time_round().as_millis(), target);
        out.extend(chapters);
    }
    let needed = HEADER_LEN as u64 + out.iter().map(|f| f.encoded_len() as u64).sum::<u64>();
    if let Some(old) = region.filter(|_| needed <= old_end) {
        // Fits: same region length, rest is padding, audio does not move.
        let new = tag_bytes(target, &out, old_end)?;
        let old = old.get(..new.len()).unwrap_or(old);
        if old == new.as_slice() {
            return Ok(Plan::Unchanged);
        }
        return Ok(Plan::Patch(diff_patches(old, &new)));
    }
    grow_plan(target, &out, needed, old_end, file_len, opts.padding)
}

/// Keeps a correct `TLEN` as it is, replaces a wrong one where it was, else appends one;
/// drops duplicates.
fn set_tlen(out: &mut Vec<RawFrame>, ms: u64, target: u8) {
    // Keep a correct TLEN as it is; replace a wrong one where it was; else append.
    let first_tlen = out.iter().position(|f| &f.id == b"TLEN");
    match first_tlen {
        Some(i) if tlen_value(&out[i], target) == Some(ms) => {}
        Some(i) => out[i] = text_frame(b"TLEN", &ms.to_string(), target),
        None => out.push(text_frame(b"TLEN", &ms.to_string(), target)),
    }
    let mut seen = false;
    out.retain(|f| {
        if &f.id != b"TLEN" {
            return true;
        }
        !std::mem::replace(&mut seen, true)
    });
}

/// The plan for a tag `body` that does not fit in the old region of `old_end` bytes.
fn grow_plan(
    target: u8,
    frames: &[RawFrame],
    needed: u64,
    old_end: u64,
    file_len: u64,
    padding: usize,
) -> Result<Plan, Id3Error> {
    // Does not fit: the region grows by whole 4 KiB blocks, so the file system can insert the
    // space in front of the old region instead of the audio being copied (see
    // `Plan::Insert`). The new tag fills the old region and the inserted space exactly, with
    // at least the requested padding; everything from the old region's end on stays as is.
    let min_total = needed.saturating_add(padding as u64);
    let grow = min_total.saturating_sub(old_end).div_ceil(INSERT_BLOCK) * INSERT_BLOCK;
    let total = old_end.saturating_add(grow);
    if total > MAX_TAG_SIZE {
        return Err(Id3Error::TagTooLarge {
            size: total,
            cap: MAX_TAG_SIZE,
        });
    }
    let tag = tag_bytes(target, frames, total)?;
    let mut fallback = vec![Piece::Bytes(tag.clone())];
    if file_len > old_end {
        fallback.push(Piece::Copy {
            offset: old_end,
            len: file_len - old_end,
        });
    }
    Ok(Plan::Insert {
        len: grow,
        patches: vec![Patch {
            offset: 0,
            data: tag,
        }],
        fallback,
    })
}

/// Granularity in which a tag that outgrows its space grows: the block size of ext4 and of
/// XFS as usually formatted, so the space can be inserted in place.
const INSERT_BLOCK: u64 = 4096;

/// A complete tag of `total` bytes: header (no flags, no unsynchronisation), `frames`, zero
/// padding. The size field covers frames and padding exactly. Written straight into one
/// buffer of the final size: with chapter images this is the one copy of their bytes.
fn tag_bytes(major: u8, frames: &[RawFrame], total: u64) -> Result<Vec<u8>, Id3Error> {
    let too_large = || Id3Error::TagTooLarge {
        size: total,
        cap: MAX_TAG_SIZE,
    };
    let total = usize::try_from(total).map_err(|_| too_large())?;
    let size = u32::try_from(total.saturating_sub(HEADER_LEN)).map_err(|_| too_large())?;
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(b"ID3");
    out.push(major);
    out.push(0);
    out.push(0);
    out.extend_from_slice(&to_syncsafe(size));
    for f in frames {
        f.encode(major, &mut out);
    }
    out.resize(total.max(out.len()), 0);
    Ok(out)
}

/// The changed runs between two equally long regions, merging runs separated by fewer than
/// [`PATCH_MERGE_GAP`] equal bytes.
fn diff_patches(old: &[u8], new: &[u8]) -> Vec<Patch> {
    let mut patches: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    let n = new.len().min(old.len());
    while i < n {
        if old[i] == new[i] {
            i += 1;
            continue;
        }
        let start = i;
        while i < n && old[i] != new[i] {
            i += 1;
        }
        match patches.last_mut() {
            Some((_, end)) if start - *end < PATCH_MERGE_GAP => *end = i,
            _ => patches.push((start, i)),
        }
    }
    patches
        .into_iter()
        .map(|(s, e)| Patch {
            offset: s as u64,
            data: new[s..e].to_vec(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chapter::Chapter;

    #[test]
    fn urls_become_ascii() {
        assert_eq!(ascii_url("https://example.com"), "https://example.com");
        assert_eq!(
            ascii_url("https://bücher.example/straße?q=ä"),
            "https://xn--bcher-kva.example/stra%C3%9Fe?q=%C3%A4"
        );
        assert_eq!(ascii_url("not a url ü"), "not%20a%20url%20%C3%BC");
    }

    #[test]
    fn diff_merges_close_runs() {
        let old = vec![0u8; 1000];
        let mut new = old.clone();
        new[10] = 1;
        new[20] = 1;
        new[900] = 1;
        let p = diff_patches(&old, &new);
        assert_eq!(p.len(), 2);
        assert_eq!((p[0].offset, p[0].data.len()), (10, 11));
        assert_eq!((p[1].offset, p[1].data.len()), (900, 1));
    }

    #[test]
    fn v24_text_is_converted_for_v23() {
        let mut data = vec![3u8];
        data.extend_from_slice("Ünï\0two".as_bytes());
        let out = content_to_v23(b"TIT2", &data);
        assert_eq!(out[0], 1);
        assert_eq!(decode_text(1, &out[1..]), "Ünï/two");
        let mut comm = vec![3u8];
        comm.extend_from_slice(b"eng\0");
        comm.extend_from_slice("é".as_bytes());
        let out = content_to_v23(b"COMM", &comm);
        assert_eq!(&out[..6], &[1, b'e', b'n', b'g', 0xFF, 0xFE]);
        let tdrc = text_frame(b"TDRC", "2026-11-03T10:30", 4);
        let ids: Vec<_> = date_to_v23(&tdrc, [0, 0])
            .iter()
            .map(|f| (f.id_str().to_string(), text_frame_value(&f.data).unwrap()))
            .collect();
        assert_eq!(
            ids,
            [
                ("TYER".to_string(), "2026".to_string()),
                ("TDAT".into(), "0311".into()),
                ("TIME".into(), "1030".into())
            ]
        );
    }

    #[test]
    fn chapter_checks() {
        let d = SampleTime::new(44_100 * 10, 44_100);
        let l = ChapterList::new(vec![
            Chapter::new(Time::from_secs(0), "a"),
            Chapter::new(Time::from_secs(0), "b"),
        ]);
        assert!(matches!(
            chapter_frames(&l, d, 3, true),
            Err(Id3Error::NotAscending { .. })
        ));
        let l = ChapterList::new(vec![Chapter::new(Time::from_secs(10), "a")]);
        assert!(matches!(
            chapter_frames(&l, d, 3, true),
            Err(Id3Error::StartPastEnd { .. })
        ));
        let l = ChapterList::new(vec![Chapter::new(Time::from_secs(1), "a\0b")]);
        assert!(matches!(
            chapter_frames(&l, d, 3, true),
            Err(Id3Error::NulInText { .. })
        ));
        assert!(matches!(
            chapter_frames(&ChapterList::default(), d, 3, true),
            Err(Id3Error::NoChapters)
        ));
    }

    #[test]
    fn flags_map_between_versions() {
        assert_eq!(convert_flags([0xE0, 0], 3, 4, "TIT2").unwrap(), [0x70, 0]);
        assert_eq!(convert_flags([0x70, 0], 4, 3, "TIT2").unwrap(), [0xE0, 0]);
        assert!(convert_flags([0, 0x80], 3, 4, "TIT2").is_err());
        assert!(convert_flags([0, 0x08], 4, 3, "TIT2").is_err());
    }
}
