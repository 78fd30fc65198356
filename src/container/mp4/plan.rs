//! Planning a write or strip: edit `moov` in memory, lay out the rewritten region, and shift
//! every chunk offset behind it.

use super::boxes::{self, FourCc, Node, TopBox};
use super::chapters::{self as read, Loaded, Track};
use super::images::{ImageSpec, image_spec, image_trak};
use super::ours;
use super::{DEFAULT_PADDING, MAX_CHAPTERS, Mp4Error, Mp4Options};
use crate::chapter::ChapterList;
use crate::time::{SampleTime, Time};
use crate::write::{Patch, Piece, Plan};
use std::path::Path;

/// What to do to the file.
pub(crate) enum Edit<'a> {
    Write {
        list: &'a ChapterList,
        duration: SampleTime,
        opts: &'a Mp4Options,
    },
    Strip,
}

/// The chapter track's time unit: milliseconds, as every chapter source is.
const TRACK_TIMESCALE: u32 = 1000;

/// Free boxes larger than this are not zeroed when reused: only their header is rewritten
/// (their contents are meaningless by definition), so a huge `free` costs no memory.
const MAX_ZEROED_FREE: u64 = 1 << 20;

/// `encd` text modifier: the sample text is UTF-8.
const ENCD_UTF8: [u8; 12] = [0, 0, 0, 12, b'e', b'n', b'c', b'd', 0, 0, 1, 0];

/// Payload (after the 8-byte box header) of the `text` sample entry, byte for byte what
/// ffmpeg writes for its chapter tracks (QuickTime needs these properties to recognise a
/// chapter track). The body follows the 3GPP `tx3g` layout.
const TEXT_SAMPLE_ENTRY: [u8; 51] = [
    0, 0, 0, 0, 0, 0, 0, 1, // reserved, data reference index 1
    0, 0, 0, 1, // display flags
    0, 0, // horizontal and vertical justification
    0, 0, 0, 0, // background colour
    0, 0, 0, 0, 0, 0, 0, 0, // default text box
    0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, // style: chars 0-0, font 1, face 0, size 0, colour
    0, 0, 0, 13, b'f', b't', b'a', b'b', 0, 1, 0, 1, 0, // ftab: font 1, no name
];

/// The 3×3 identity matrix of `tkhd` and the `gmhd/text` box.
const MATRIX: [u32; 9] = [0x0001_0000, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000];

/// The chapter forms to write, computed (and validated) before the file is opened.
pub(super) struct Prepared {
    /// `chpl` payload, when writing Nero chapters.
    chpl: Option<Vec<u8>>,
    /// The chapter track's samples and timing, when writing a QuickTime chapter track.
    track: Option<TrackSpec>,
    pub(super) padding: u64,
}

struct TrackSpec {
    /// One sample per chapter.
    samples: Vec<Vec<u8>>,
    /// Per sample, in milliseconds.
    durations: Vec<u32>,
    /// End of the last chapter: the audio length, in ms.
    total: u64,
    /// The chapter-image track, when the chapters have images; its samples follow the text
    /// samples in the chapter `mdat`.
    images: Option<ImageSpec>,
    /// Start of the first chapter, in ms (the filler's length): the edit list presents the
    /// media from there, after an empty edit as long.
    delay: u64,
}

impl TrackSpec {
    /// Appends the samples (text, then images) to `out`: the one copy of the images.
    fn write_data(&self, out: &mut Vec<u8>) {
        for s in &self.samples {
            out.extend_from_slice(s);
        }
        for (s, _) in self.images.iter().flat_map(|i| &i.samples) {
            out.extend_from_slice(s);
        }
    }
    fn text_len(&self) -> u64 {
        self.samples.iter().map(|s| s.len() as u64).sum()
    }
    fn data_len(&self) -> u64 {
        self.text_len() + self.images.as_ref().map_or(0, ImageSpec::data_len)
    }
}

/// Plans the edit.
pub(crate) fn plan(path: &Path, edit: Edit<'_>) -> Result<Plan, Mp4Error> {
    let prepared = match &edit {
        Edit::Write {
            list,
            duration,
            opts,
        } => prepare(path, list, *duration, opts)?,
        Edit::Strip => Prepared {
            chpl: None,
            track: None,
            padding: u64::from(DEFAULT_PADDING),
        },
    };
    let mut ld = read::load(path)?;
    reject_unsupported(path, &ld)?;
    let tracks = read::tracks(path, &ld.moov)?;
    let mut old_ids = read::chapter_track_ids(&tracks);
    old_ids.extend(chapter_image_track_ids(&tracks, &old_ids));
    let has_chpl = ld
        .moov
        .child(b"udta")
        .is_some_and(|u| u.child(b"chpl").is_some());
    if matches!(edit, Edit::Strip) && old_ids.is_empty() && !has_chpl {
        return Ok(Plan::Unchanged);
    }
    let old: Vec<&Track> = tracks.iter().filter(|t| old_ids.contains(&t.id)).collect();
    let kept: Vec<&Track> = tracks.iter().filter(|t| !old_ids.contains(&t.id)).collect();

    // Chunk offsets: the kept tracks' must stay valid; the old chapter tracks' data may be
    // reclaimed when it sits in its own mdat next to moov.
    let mut kept_offsets = Vec::new();
    for t in &kept {
        kept_offsets.extend(track_chunk_offsets(path, &ld.moov, t)?);
    }
    kept_offsets.sort_unstable();
    ours::check_kept_samples(path, &ld.top, &ld.moov, &kept, &kept_offsets)?;
    let old_samples = ours::chapter_sample_ranges(path, &ld.moov, &old).unwrap_or_default();

    let region = find_region(path, &ld.top, ld.moov_at, &kept_offsets, &old_samples)?;

    // Edit the tree: remove the old forms, add the new ones.
    let movie_ts = read::movie_timescale(path, &ld.moov)?;
    let new_trak_pos = edit_moov(path, &mut ld.moov, &tracks, &old_ids, &prepared)?;

    layout(path, &mut ld, &region, new_trak_pos, movie_ts, &prepared)
}

/// Validates the list and builds the chapter payloads.
fn prepare(
    path: &Path,
    list: &ChapterList,
    duration: SampleTime,
    opts: &Mp4Options,
) -> Result<Prepared, Mp4Error> {
    let chapters = &list.chapters;
    if chapters.is_empty() {
        return Err(Mp4Error::NoChapters {
            path: path.to_path_buf(),
        });
    }
    let max = super::capabilities(opts.kinds)
        .max_chapters
        .unwrap_or(MAX_CHAPTERS);
    if chapters.len() > max {
        return Err(Mp4Error::TooManyChapters {
            path: path.to_path_buf(),
            count: chapters.len(),
            max,
        });
    }
    if duration.sample_rate == 0 || duration.samples == 0 {
        return Err(Mp4Error::BadDuration {
            path: path.to_path_buf(),
            samples: duration.samples,
            sample_rate: duration.sample_rate,
        });
    }
    let total = duration.to_time_round();
    check_starts(path, list, duration)?;

    let chpl = opts.kinds.nero().then(|| chpl_payload(list));
    let track = if opts.kinds.quicktime() {
        Some(track_spec(path, list, total)?)
    } else {
        if chapters.iter().any(|c| c.link.is_some()) {
            log::info!(
                "{}: chapter urls are only stored in the quicktime chapter track; not writing them",
                path.display()
            );
        }
        None
    };
    let padding = match u64::from(opts.padding) {
        0 => 0,
        p => p.max(8),
    };
    Ok(Prepared {
        chpl,
        track,
        padding,
    })
}

/// The chapter track's samples and durations, in milliseconds.
fn track_spec(path: &Path, list: &ChapterList, total: Time) -> Result<TrackSpec, Mp4Error> {
    let chapters = &list.chapters;
    let mut samples = Vec::with_capacity(chapters.len());
    let mut durations = Vec::with_capacity(chapters.len());
    for (i, c) in chapters.iter().enumerate() {
        let end = list.end_of(i, Some(total)).unwrap_or(total);
        let ms = end.saturating_sub(c.start).as_millis();
        let ms = u32::try_from(ms).map_err(|_| Mp4Error::Unsupported {
            path: path.to_path_buf(),
            feature: format!("chapter {} lasting more than 49 days", i + 1),
        })?;
        durations.push(ms);
        let href = match &c.link {
            Some(link) => Some(href_box(path, i + 1, &c.title, link)?),
            None => None,
        };
        samples.push(text_sample(&c.title, href.as_deref()));
    }
    // The media timeline starts at 0:00: a first chapter after that gets an untitled filler
    // sample before it, so readers that ignore edit lists (music-metadata, mp4v2, mp4ameta,
    // many podcast apps) still see every chapter at its time. For readers that apply edit
    // lists (ffmpeg/ffprobe, Apple, mp4box.js users) an empty edit followed by an edit
    // starting at the first chapter presents the same times without the filler, which they
    // listed as a chapter with no title.
    let first_start = chapters.first().map_or(0, |c| c.start.as_millis());
    if first_start > 0 {
        let gap = u32::try_from(first_start).map_err(|_| Mp4Error::Unsupported {
            path: path.to_path_buf(),
            feature: "a first chapter starting after 49 days".into(),
        })?;
        samples.insert(0, text_sample("", None));
        durations.insert(0, gap);
    }
    let images = image_spec(list, &durations, first_start > 0);
    Ok(TrackSpec {
        samples,
        durations,
        total: total.as_millis(),
        images,
        delay: first_start,
    })
}

/// Starts must strictly ascend and lie before the end of the audio.
fn check_starts(path: &Path, list: &ChapterList, duration: SampleTime) -> Result<(), Mp4Error> {
    let chapters = &list.chapters;
    let last_sample = duration.to_time_floor();
    let total = duration.to_time_round();
    for (i, c) in chapters.iter().enumerate() {
        if let Some(prev) = i.checked_sub(1).and_then(|p| chapters.get(p))
            && c.start <= prev.start
        {
            return Err(Mp4Error::NotAscending {
                path: path.to_path_buf(),
                index: i + 1,
                start: c.start,
                previous: prev.start,
            });
        }
        if c.start >= last_sample {
            return Err(Mp4Error::PastEnd {
                path: path.to_path_buf(),
                index: i + 1,
                start: c.start,
                end: total,
            });
        }
    }
    Ok(())
}

/// The longest prefix of `s` that fits in `max` bytes without splitting a character.
fn cut_utf8(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while end > 0 && !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// `chpl` version 1 payload: flags 0, 4 reserved bytes, u8 count, then per chapter the start
/// in 100 ns units and a u8-length UTF-8 title cut on a character boundary.
fn chpl_payload(list: &ChapterList) -> Vec<u8> {
    let mut p = vec![1, 0, 0, 0, 0, 0, 0, 0, list.chapters.len() as u8];
    for c in &list.chapters {
        p.extend_from_slice(&c.start.to_units(10_000_000).to_be_bytes());
        let title = cut_utf8(&c.title, crate::limits::MP4_CHPL_TITLE_BYTES);
        if title.len() < c.title.len() {
            log::info!(
                "chapter at {}: title cut to {} bytes in the nero chpl list (the chapter track keeps it whole)",
                c.start,
                title.len()
            );
        }
        p.push(title.len() as u8);
        p.extend_from_slice(title.as_bytes());
    }
    p
}

/// One chapter-track sample: u16 length, UTF-8 title, `encd`, and the optional `href`.
fn text_sample(title: &str, href: Option<&[u8]>) -> Vec<u8> {
    let t = cut_utf8(title, usize::from(u16::MAX));
    if t.len() < title.len() {
        log::warn!("a chapter title longer than 65535 bytes was cut in the chapter track");
    }
    let mut s = Vec::with_capacity(2 + t.len() + 12 + href.map_or(0, <[u8]>::len));
    s.extend_from_slice(&(t.len() as u16).to_be_bytes());
    s.extend_from_slice(t.as_bytes());
    s.extend_from_slice(&ENCD_UTF8);
    if let Some(h) = href {
        s.extend_from_slice(h);
    }
    s
}

/// The URL as stored: ASCII only (IDNA host, percent-encoded path) and at most 255 bytes.
/// A URL that is already printable ASCII is kept exactly as written.
pub(crate) fn ascii_url(url: &str) -> Result<String, String> {
    // Parsed even when already ASCII: a relative URL is no link at all.
    url::Url::parse(url).map_err(|e| format!("not an absolute url: {e}"))?;
    let s = crate::chapter::ascii_url(url).map_err(|_| "not an absolute url")?;
    if s.len() > crate::limits::MP4_HREF_URL_BYTES {
        return Err(format!(
            "{} bytes as ascii; the href box holds at most {}",
            s.len(),
            crate::limits::MP4_HREF_URL_BYTES
        ));
    }
    Ok(s)
}

/// The 3GPP `href` text modifier linking the whole title to the URL.
fn href_box(
    path: &Path,
    index: usize,
    title: &str,
    link: &crate::chapter::Link,
) -> Result<Vec<u8>, Mp4Error> {
    let url = ascii_url(&link.url).map_err(|problem| Mp4Error::BadUrl {
        path: path.to_path_buf(),
        index,
        url: link.url.clone(),
        problem,
    })?;
    let alt = cut_utf8(
        link.label.as_deref().unwrap_or(""),
        crate::limits::MP4_HREF_TEXT_BYTES,
    );
    let chars = cut_utf8(title, usize::from(u16::MAX)).chars().count();
    let end = u16::try_from(chars).unwrap_or(u16::MAX);
    let mut body = Vec::with_capacity(6 + url.len() + alt.len());
    body.extend_from_slice(&0u16.to_be_bytes());
    body.extend_from_slice(&end.to_be_bytes());
    body.push(url.len() as u8);
    body.extend_from_slice(url.as_bytes());
    body.push(alt.len() as u8);
    body.extend_from_slice(alt.as_bytes());
    Ok(Node::leaf(b"href", &body).to_bytes())
}

/// Fragmented files and external data references keep offsets we do not rewrite.
fn reject_unsupported(path: &Path, ld: &Loaded) -> Result<(), Mp4Error> {
    let unsupported = |feature: String| Mp4Error::Unsupported {
        path: path.to_path_buf(),
        feature,
    };
    if ld.moov.child(b"mvex").is_some()
        || ld
            .top
            .iter()
            .any(|b| matches!(&b.typ, b"moof" | b"mfra" | b"sidx"))
    {
        return Err(unsupported("fragmented mp4 (moof/mvex)".into()));
    }
    let mut n = 0;
    for trak in ld.moov.children().iter().filter(|c| &c.typ == b"trak") {
        n += 1;
        let Some(dref) = trak.find(&[b"mdia", b"minf", b"dinf", b"dref"]) else {
            continue;
        };
        let mut r = boxes::Rd::new(dref.payload());
        let count = r.skip(4).and_then(|_| r.u32()).unwrap_or(0);
        for _ in 0..count.min(64) {
            let (Some(size), Some(_typ), Some(vf)) = (r.u32(), r.bytes(4), r.u32()) else {
                break;
            };
            if vf & 1 == 0 {
                return Err(unsupported(format!(
                    "moov/trak[{n}]: media data in another file (dref)"
                )));
            }
            if size < 12 || r.skip(size as usize - 12).is_none() {
                break;
            }
        }
    }
    Ok(())
}

fn chunk_box(trak: &Node) -> Option<&Node> {
    let stbl = trak.find(&[b"mdia", b"minf", b"stbl"])?;
    stbl.child(b"stco").or_else(|| stbl.child(b"co64"))
}

fn track_chunk_offsets(path: &Path, moov: &Node, t: &Track) -> Result<Vec<u64>, Mp4Error> {
    let Some(trak) = moov.children().get(t.pos) else {
        return Ok(Vec::new());
    };
    match chunk_box(trak) {
        Some(b) => boxes::chunk_offsets(&b.typ, b.payload()).map_err(|e| {
            Mp4Error::malformed(
                path,
                format!("{}/mdia/minf/stbl/{}", t.path, boxes::fourcc_str(&b.typ)),
                e,
            )
        }),
        None => Ok(Vec::new()),
    }
}

/// The stretch of the file we rewrite: `moov` plus adjacent `free`/`skip` boxes and
/// adjacent `mdat`s that hold exactly the old chapter samples and nothing else.
pub(super) struct Region {
    pub(super) start: u64,
    pub(super) end: u64,
    /// When the audio `mdat` follows the region (faststart), the region also takes its header
    /// and whatever precedes its first audio chunk (old chapter samples), and this is the
    /// length of the audio payload kept after `end`. The chapter samples then go inside that
    /// `mdat`, just before the audio: music-metadata (Node) reads chapter samples only when
    /// the file has a single `mdat`, as ffmpeg writes it.
    pub(super) tail_payload: Option<u64>,
}

fn any_in(sorted: &[u64], start: u64, end: u64) -> bool {
    let i = sorted.partition_point(|&o| o < start);
    sorted.get(i).is_some_and(|&o| o < end)
}

fn find_region(
    path: &Path,
    top: &[TopBox],
    moov_at: usize,
    kept: &[u64],
    old_samples: &[(u64, u64)],
) -> Result<Region, Mp4Error> {
    let absorbable = |b: &TopBox| {
        if any_in(kept, b.offset, b.end()) {
            return false;
        }
        match &b.typ {
            b"free" | b"skip" => true,
            b"mdat" => ours::only_chapter_samples(b, old_samples),
            _ => false,
        }
    };
    let moov = top[moov_at];
    if any_in(kept, moov.offset, moov.end()) {
        return Err(Mp4Error::malformed(
            path,
            "moov",
            "a track's chunk offset points inside moov",
        ));
    }
    let mut first = moov_at;
    while first > 0 && absorbable(&top[first - 1]) {
        first -= 1;
    }
    let mut last = moov_at;
    while last + 1 < top.len() && absorbable(&top[last + 1]) {
        last += 1;
    }
    let mut region = Region {
        start: top[first].offset,
        end: top[last].end(),
        tail_payload: None,
    };
    if let Some(next) = top.get(last + 1).filter(|b| &b.typ == b"mdat") {
        let first_kept = kept
            .get(kept.partition_point(|&o| o < next.offset))
            .copied();
        if let Some(at) = first_kept.filter(|&o| o >= next.offset + 8 && o < next.end()) {
            region.end = at;
            region.tail_payload = Some(next.end() - at);
        }
    }
    Ok(region)
}

fn chap_ids(trak: &Node) -> Vec<u32> {
    trak.find(&[b"tref", b"chap"])
        .map(|c| {
            c.payload()
                .chunks_exact(4)
                .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
                .collect()
        })
        .unwrap_or_default()
}

fn ids_payload(ids: &[u32]) -> Vec<u8> {
    ids.iter().flat_map(|i| i.to_be_bytes()).collect()
}

/// Removes the old chapter forms and inserts the new ones. Returns the index in `moov` of
/// the new chapter track (built later, once its chunk offset is known) — a placeholder
/// `free` box holds its place until then.
fn edit_moov(
    path: &Path,
    moov: &mut Node,
    tracks: &[Track],
    old_ids: &[u32],
    prepared: &Prepared,
) -> Result<Option<usize>, Mp4Error> {
    let write_track = prepared.track.is_some();
    let write_images = prepared.track.as_ref().is_some_and(|t| t.images.is_some());
    let Some(children) = moov.children_mut() else {
        return Err(Mp4Error::malformed(path, "moov", "not a container"));
    };

    // 1. Drop the old chapter tracks.
    let mut old_pos: Vec<usize> = tracks
        .iter()
        .filter(|t| old_ids.contains(&t.id))
        .map(|t| t.pos)
        .collect();
    old_pos.sort_unstable();
    for &p in old_pos.iter().rev() {
        children.remove(p);
    }
    let remaining: Vec<&Track> = tracks.iter().filter(|t| !old_ids.contains(&t.id)).collect();

    // 2. The new track's ID: above every remaining track and every surviving reference.
    let new_id = new_track_id(path, &remaining, old_ids)?;

    // 3. Which tracks reference the chapter track: those that referenced the old one, else
    //    the first audio track (else the first video track).
    let trak_idx: Vec<usize> = children
        .iter()
        .enumerate()
        .filter(|(_, c)| &c.typ == b"trak")
        .map(|(i, _)| i)
        .collect();
    let targets = chapter_ref_targets(path, children, &trak_idx, old_ids, write_track)?;

    // 4. Rewrite tref/chap lists in place where they change.
    for &i in &trak_idx {
        let trak = &mut children[i];
        let before = chap_ids(trak);
        let has_chap = trak.find(&[b"tref", b"chap"]).is_some();
        let mut after: Vec<u32> = before
            .iter()
            .copied()
            .filter(|r| !old_ids.contains(r))
            .collect();
        if write_track && targets.contains(&i) {
            after.insert(0, new_id);
            if write_images {
                after.insert(1, new_id.saturating_add(1));
            }
        }
        if has_chap && after == before {
            continue;
        }
        set_chap_refs(trak, &after);
    }

    // 5. chpl: replace in place, or append to udta (created at the end of moov).
    replace_chpl(children, prepared.chpl.as_deref());

    // 6. Placeholder for the new chapter track, after the last track.
    if !write_track {
        return Ok(None);
    }
    Ok(Some(insert_placeholders(moov, new_id, write_images)))
}

/// Inserts `free` placeholders for the new chapter track (holding its ID) and, with images,
/// the image track after it; keeps `mvhd` `next_track_ID` above both. Returns the chapter
/// track's index in `moov`.
fn insert_placeholders(moov: &mut Node, new_id: u32, write_images: bool) -> usize {
    let Some(children) = moov.children_mut() else {
        return 0;
    };
    let last_trak = children.iter().rposition(|c| &c.typ == b"trak");
    let at = match last_trak {
        Some(i) => i + 1,
        None => children
            .iter()
            .position(|c| &c.typ == b"mvhd")
            .map_or(0, |i| i + 1),
    };
    children.insert(at, Node::leaf(b"free", &new_id.to_be_bytes()));
    // The image track (ID one above) follows the text track, in its own placeholder.
    if write_images {
        children.insert(at + 1, Node::leaf(b"free", &[0; 4]));
    }
    // mvhd next_track_ID must stay above every track ID.
    let next = new_id.saturating_add(1 + u32::from(write_images));
    if let Some(mvhd) = moov.child_mut(b"mvhd") {
        bump_next_track_id(mvhd, next);
    }
    at
}

/// An ID for the new chapter track: above every remaining track and every reference that
/// survives.
fn new_track_id(path: &Path, remaining: &[&Track], old_ids: &[u32]) -> Result<u32, Mp4Error> {
    let mut new_id = remaining.iter().map(|t| t.id).max().unwrap_or(0);
    for t in remaining {
        for &r in &t.chap_refs {
            if !old_ids.contains(&r) {
                new_id = new_id.max(r);
            }
        }
    }
    new_id.checked_add(1).ok_or_else(|| Mp4Error::Unsupported {
        path: path.to_path_buf(),
        feature: "a track id of 4294967295".into(),
    })
}

/// The tracks (indexes into moov's children) that reference the chapter track.
fn chapter_ref_targets(
    path: &Path,
    children: &[Node],
    trak_idx: &[usize],
    old_ids: &[u32],
    write_track: bool,
) -> Result<Vec<usize>, Mp4Error> {
    let mut targets: Vec<usize> = trak_idx
        .iter()
        .copied()
        .filter(|&i| chap_ids(&children[i]).iter().any(|r| old_ids.contains(r)))
        .collect();
    if targets.is_empty() && write_track {
        let handler_of = |i: usize| {
            children[i]
                .find(&[b"mdia", b"hdlr"])
                .and_then(|h| h.payload().get(8..12))
                .map(|b| [b[0], b[1], b[2], b[3]])
        };
        let pick = |h: &FourCc| {
            trak_idx
                .iter()
                .copied()
                .find(|&i| handler_of(i) == Some(*h))
        };
        match pick(b"soun").or_else(|| pick(b"vide")) {
            Some(i) => targets.push(i),
            None => {
                return Err(Mp4Error::NoMediaTrack {
                    path: path.to_path_buf(),
                });
            }
        }
    }
    Ok(targets)
}

/// Replaces the `chpl` box in place, or appends it to `udta` (created at the end of moov);
/// `None` removes it (and an emptied `udta`).
fn replace_chpl(children: &mut Vec<Node>, chpl: Option<&[u8]>) {
    let udta_at = children.iter().position(|c| &c.typ == b"udta");
    match (udta_at, chpl) {
        (Some(u), chpl) => {
            let udta = &mut children[u];
            let mut removed = false;
            let mut insert_at = None;
            if let Some(kids) = udta.children_mut() {
                while let Some(p) = kids.iter().position(|c| &c.typ == b"chpl") {
                    insert_at.get_or_insert(p);
                    kids.remove(p);
                    removed = true;
                }
                if let Some(payload) = chpl {
                    let at = insert_at.unwrap_or(kids.len());
                    kids.insert(at, Node::leaf(b"chpl", payload));
                }
            }
            let empty = matches!(&udta.kind, boxes::Kind::Container { children, trailing }
                if children.is_empty() && trailing.is_empty());
            if removed && empty {
                children.remove(u);
            }
        }
        (None, Some(payload)) => {
            children.push(Node::container(b"udta", vec![Node::leaf(b"chpl", payload)]));
        }
        (None, None) => {}
    }
}

/// Sets a track's `tref/chap` list, creating `tref` (before `mdia`, where ffmpeg and Apple
/// put it) or removing empty boxes as needed.
fn set_chap_refs(trak: &mut Node, ids: &[u32]) {
    let Some(kids) = trak.children_mut() else {
        return;
    };
    let tref_at = kids.iter().position(|c| &c.typ == b"tref");
    if ids.is_empty() {
        if let Some(t) = tref_at {
            if let Some(tk) = kids[t].children_mut() {
                tk.retain(|c| &c.typ != b"chap");
            }
            let empty = matches!(&kids[t].kind, boxes::Kind::Container { children, trailing }
                if children.is_empty() && trailing.is_empty());
            if empty {
                kids.remove(t);
            }
        }
        return;
    }
    let chap = Node::leaf(b"chap", &ids_payload(ids));
    let t = match tref_at {
        Some(t) => t,
        None => {
            let at = kids
                .iter()
                .position(|c| &c.typ == b"mdia")
                .unwrap_or(kids.len());
            kids.insert(at, Node::container(b"tref", Vec::new()));
            at
        }
    };
    if let Some(tk) = kids[t].children_mut() {
        match tk.iter().position(|c| &c.typ == b"chap") {
            Some(p) => {
                tk[p] = chap;
                // A second chap box would be read by nobody; drop it.
                let mut seen = false;
                tk.retain(|c| {
                    if &c.typ != b"chap" {
                        return true;
                    }
                    let keep = !seen;
                    seen = true;
                    keep
                });
            }
            None => tk.push(chap),
        }
    }
}

fn bump_next_track_id(mvhd: &mut Node, min: u32) {
    if let boxes::Kind::Leaf { raw, header_len } = &mut mvhd.kind {
        let version = raw.get(*header_len).copied().unwrap_or(0);
        let at = *header_len + if version == 1 { 108 } else { 96 };
        if let Some(b) = raw.get_mut(at..at + 4) {
            let cur = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
            if cur < min {
                b.copy_from_slice(&min.to_be_bytes());
            }
        }
    }
}

/// Converts milliseconds to `ts` units, rounding to nearest.
fn ms_to(ms: u64, ts: u32) -> u64 {
    Time::from_millis(ms).to_units(u64::from(ts))
}

fn full(version: u8, flags: u32) -> [u8; 4] {
    let f = flags.to_be_bytes();
    [version, f[1], f[2], f[3]]
}

/// Builds the chapter `trak`, shaped like ffmpeg's (which QuickTime, Apple Podcasts and
/// ffprobe read): disabled `tkhd`, an edit list, `mdhd` at 1 kHz, `hdlr` `text`, `gmhd`,
/// a self-contained `dref`, the QuickTime `text` sample entry, and one chunk of samples.
fn chapter_trak(id: u32, movie_ts: u32, spec: &TrackSpec, chunk_offset: u64, co64: bool) -> Node {
    let media_dur: u64 = spec.durations.iter().map(|&d| u64::from(d)).sum();
    let track_dur = ms_to(spec.total, movie_ts);
    let tkhd = chapter_tkhd(id, track_dur);
    let edts = chapter_edts(track_dur, spec.delay, movie_ts);
    let mdhd = chapter_mdhd(media_dur);
    let mut p = vec![0; 8];
    p.extend_from_slice(b"text");
    p.extend_from_slice(&[0; 12]);
    p.extend_from_slice(b"Chapters\0");
    let hdlr = Node::leaf(b"hdlr", &p);

    let gmin = Node::leaf(
        b"gmin",
        &[
            0, 0, 0, 0, 0x00, 0x40, 0x80, 0, 0x80, 0, 0x80, 0, 0, 0, 0, 0,
        ],
    );
    let matrix: Vec<u8> = MATRIX.iter().flat_map(|m| m.to_be_bytes()).collect();
    let gmhd = Node::container(b"gmhd", vec![gmin, Node::leaf(b"text", &matrix)]);

    let mut p = vec![0, 0, 0, 0, 0, 0, 0, 1];
    p.extend_from_slice(&Node::leaf(b"url ", &[0, 0, 0, 1]).to_bytes());
    let dinf = Node::container(b"dinf", vec![Node::leaf(b"dref", &p)]);

    let stbl = chapter_stbl(spec, chunk_offset, co64);
    let minf = Node::container(b"minf", vec![gmhd, dinf, stbl]);
    let mdia = Node::container(b"mdia", vec![mdhd, hdlr, minf]);
    Node::container(b"trak", vec![tkhd, edts, mdia])
}

/// The chapter track's `tkhd`: flags 0 (not enabled, not in movie, not in preview).
pub(super) fn chapter_tkhd(id: u32, track_dur: u64) -> Node {
    let mut p = Vec::with_capacity(96);
    if track_dur > u64::from(u32::MAX) {
        p.extend_from_slice(&full(1, 0));
        p.extend_from_slice(&[0; 16]);
        p.extend_from_slice(&id.to_be_bytes());
        p.extend_from_slice(&[0; 4]);
        p.extend_from_slice(&track_dur.to_be_bytes());
    } else {
        p.extend_from_slice(&full(0, 0));
        p.extend_from_slice(&[0; 8]);
        p.extend_from_slice(&id.to_be_bytes());
        p.extend_from_slice(&[0; 4]);
        p.extend_from_slice(&(track_dur as u32).to_be_bytes());
    }
    p.extend_from_slice(&[0; 8]); // reserved
    p.extend_from_slice(&[0; 8]); // layer, alternate group, volume, reserved
    for m in MATRIX {
        p.extend_from_slice(&m.to_be_bytes());
    }
    p.extend_from_slice(&[0; 8]); // width, height
    Node::leaf(b"tkhd", &p)
}

/// `edts/elst`: one edit showing the whole media from its start, as ffmpeg writes; when the
/// first chapter starts after 0:00 (`delay_ms`), an empty edit that long, then the media from
/// `delay_ms` on, so the filler sample is never presented.
pub(super) fn chapter_edts(track_dur: u64, delay_ms: u64, movie_ts: u32) -> Node {
    let wide = track_dur > u64::from(u32::MAX);
    let delay = ms_to(delay_ms, movie_ts).min(track_dur);
    let mut edits = Vec::with_capacity(2);
    if delay > 0 {
        edits.push((delay, None));
    }
    // Media time is in the track's timescale, which is milliseconds.
    edits.push((track_dur - delay, Some(delay_ms)));
    let mut p = Vec::new();
    p.extend_from_slice(&full(u8::from(wide), 0));
    p.extend_from_slice(&(edits.len() as u32).to_be_bytes());
    for (dur, media_time) in edits {
        if wide {
            p.extend_from_slice(&dur.to_be_bytes());
            p.extend_from_slice(&media_time.unwrap_or(u64::MAX).to_be_bytes());
        } else {
            // Not wide: track_dur, and so every part of it, fits 32 bits.
            p.extend_from_slice(&(dur as u32).to_be_bytes());
            p.extend_from_slice(&media_time.map_or(u32::MAX, |t| t as u32).to_be_bytes());
        }
        p.extend_from_slice(&0x0001_0000u32.to_be_bytes());
    }
    Node::container(b"edts", vec![Node::leaf(b"elst", &p)])
}

/// `mdhd`: 1 kHz, language 'und'.
pub(super) fn chapter_mdhd(media_dur: u64) -> Node {
    let mut p = Vec::new();
    if media_dur > u64::from(u32::MAX) {
        p.extend_from_slice(&full(1, 0));
        p.extend_from_slice(&[0; 16]);
        p.extend_from_slice(&TRACK_TIMESCALE.to_be_bytes());
        p.extend_from_slice(&media_dur.to_be_bytes());
    } else {
        p.extend_from_slice(&full(0, 0));
        p.extend_from_slice(&[0; 8]);
        p.extend_from_slice(&TRACK_TIMESCALE.to_be_bytes());
        p.extend_from_slice(&(media_dur as u32).to_be_bytes());
    }
    p.extend_from_slice(&0x55C4u16.to_be_bytes());
    p.extend_from_slice(&[0; 2]);
    Node::leaf(b"mdhd", &p)
}

/// The sample table: one text sample per chapter, all in one chunk at `chunk_offset`.
fn chapter_stbl(spec: &TrackSpec, chunk_offset: u64, co64: bool) -> Node {
    let mut p = vec![0, 0, 0, 0, 0, 0, 0, 1];
    p.extend_from_slice(&Node::leaf(b"text", &TEXT_SAMPLE_ENTRY).to_bytes());
    let stsd = Node::leaf(b"stsd", &p);

    // One entry per sample, not runs of equal durations: music-metadata (≤ 11) takes each
    // entry for one sample when it adds up chapter starts.
    let mut p = vec![0; 4];
    p.extend_from_slice(&(spec.durations.len() as u32).to_be_bytes());
    for &d in &spec.durations {
        p.extend_from_slice(&1u32.to_be_bytes());
        p.extend_from_slice(&d.to_be_bytes());
    }
    let stts = Node::leaf(b"stts", &p);

    // One chunk per sample (as ffmpeg writes text tracks): the samples are stored back to
    // back, but music-metadata (≤ 11) refuses a track whose chunk-offset table is not as long
    // as its sample-size table.
    let n = spec.samples.len() as u32;
    let mut p = vec![0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1];
    p.extend_from_slice(&1u32.to_be_bytes());
    p.extend_from_slice(&1u32.to_be_bytes());
    let stsc = Node::leaf(b"stsc", &p);

    let mut p = vec![0; 8];
    p.extend_from_slice(&n.to_be_bytes());
    for s in &spec.samples {
        p.extend_from_slice(&(s.len() as u32).to_be_bytes());
    }
    let stsz = Node::leaf(b"stsz", &p);

    let offsets: Vec<u64> = spec
        .samples
        .iter()
        .scan(chunk_offset, |at, sample| {
            let this = *at;
            *at += sample.len() as u64;
            Some(this)
        })
        .collect();
    let co = boxes::chunk_offset_box(&offsets, co64);
    Node::container(b"stbl", vec![stsd, stts, stsc, stsz, co])
}

/// Shifts every chunk offset at or after `from` by `delta` in every track of `moov` except
/// the one at `skip`. An `stco` whose offsets no longer fit 32 bits becomes `co64`.
fn shift_offsets(
    path: &Path,
    moov: &mut Node,
    skip: Option<usize>,
    from: u64,
    delta: i64,
) -> Result<(), Mp4Error> {
    if delta == 0 {
        return Ok(());
    }
    let Some(children) = moov.children_mut() else {
        return Ok(());
    };
    let mut n = 0;
    for (i, trak) in children.iter_mut().enumerate() {
        if &trak.typ != b"trak" || Some(i) == skip {
            continue;
        }
        n += 1;
        let Some(stbl) = trak.find_mut(&[b"mdia", b"minf", b"stbl"]) else {
            continue;
        };
        let Some(kids) = stbl.children_mut() else {
            continue;
        };
        let Some(at) = kids
            .iter()
            .position(|c| &c.typ == b"stco" || &c.typ == b"co64")
        else {
            continue;
        };
        let b = &kids[at];
        let bpath = format!(
            "moov/trak[{n}]/mdia/minf/stbl/{}",
            boxes::fourcc_str(&b.typ)
        );
        let mut offs = boxes::chunk_offsets(&b.typ, b.payload())
            .map_err(|e| Mp4Error::malformed(path, &bpath, e))?;
        let mut changed = false;
        for o in offs.iter_mut() {
            if *o >= from {
                *o = o
                    .checked_add_signed(delta)
                    .ok_or_else(|| Mp4Error::malformed(path, &bpath, "chunk offset overflows"))?;
                changed = true;
            }
        }
        if changed {
            let was_co64 = &b.typ == b"co64";
            kids[at] = boxes::chunk_offset_box(&offs, was_co64);
        }
    }
    Ok(())
}

/// Serialises the edited `moov` for a region starting at `region_start`, with chunk offsets
/// behind the region shifted by `delta`. Returns the `moov` bytes and the chapter `mdat`.
pub(super) fn assemble(
    path: &Path,
    base: &Node,
    new_trak: Option<(usize, u32)>,
    prepared: &Prepared,
    movie_ts: u32,
    region: &Region,
    delta: i64,
) -> Result<(Vec<u8>, Vec<u8>), Mp4Error> {
    let mut moov = base.clone();
    shift_offsets(path, &mut moov, new_trak.map(|t| t.0), region.end, delta)?;
    let track = new_trak.zip(prepared.track.as_ref());
    let data_len = track.map_or(0, |(_, spec)| spec.data_len());
    let tail = region.tail_payload.unwrap_or(0);
    if track.is_none() && region.tail_payload.is_none() {
        return Ok((moov.to_bytes(), Vec::new()));
    }
    // With the audio mdat following, one header covers the chapter samples and the audio.
    let mut mdat = Vec::with_capacity(usize::try_from(data_len).unwrap_or(0) + 16);
    boxes::write_header(&mut mdat, b"mdat", data_len + tail);
    let header = mdat.len() as u64;
    if let Some((_, spec)) = track {
        spec.write_data(&mut mdat);
    }
    let Some(((pos, id), spec)) = track else {
        return Ok((moov.to_bytes(), mdat));
    };

    // The chapter data follows moov; its offset depends on moov's size, which depends on
    // stco vs co64 only. Decide that first, then fill in the offset.
    let mut co64 = false;
    loop {
        let Some(children) = moov.children_mut() else {
            return Err(Mp4Error::malformed(path, "moov", "not a container"));
        };
        let Some(slot) = children.get_mut(pos) else {
            return Err(Mp4Error::malformed(
                path,
                "moov",
                "lost the chapter track slot",
            ));
        };
        *slot = chapter_trak(id, movie_ts, spec, 0, co64);
        set_image_trak(&mut moov, pos, id, movie_ts, spec, 0, co64);
        let offset = match region.tail_payload {
            // The samples end where the (shifted) audio begins.
            Some(_) => region
                .end
                .saturating_add_signed(delta)
                .saturating_sub(spec.data_len()),
            None => region.start + moov.size() + header,
        };
        if !co64 && offset + spec.data_len() > u64::from(u32::MAX) {
            co64 = true;
            continue;
        }
        let Some(children) = moov.children_mut() else {
            return Err(Mp4Error::malformed(path, "moov", "not a container"));
        };
        if let Some(slot) = children.get_mut(pos) {
            *slot = chapter_trak(id, movie_ts, spec, offset, co64);
        }
        let image_offset = offset + spec.text_len();
        set_image_trak(&mut moov, pos, id, movie_ts, spec, image_offset, co64);
        return Ok((moov.to_bytes(), mdat));
    }
}

/// Puts the image track (ID `id + 1`) in the slot after the text track's, when there is one.
fn set_image_trak(
    moov: &mut Node,
    pos: usize,
    id: u32,
    movie_ts: u32,
    spec: &TrackSpec,
    offset: u64,
    co64: bool,
) {
    let Some(images) = &spec.images else { return };
    let track_dur = ms_to(spec.total, movie_ts);
    // The same edit list as the text track: the gap sample is never presented either.
    let edts = chapter_edts(track_dur, spec.delay, movie_ts);
    if let Some(slot) = moov.children_mut().and_then(|c| c.get_mut(pos + 1)) {
        *slot = image_trak(id.saturating_add(1), track_dur, edts, images, offset, co64);
    }
}

/// `vide` tracks that `tref/chap` references: chapter images, replaced with the chapters
/// (only when the file also has a text chapter track, so a video file's own references
/// are never touched otherwise).
fn chapter_image_track_ids(tracks: &[Track], text_ids: &[u32]) -> Vec<u32> {
    if text_ids.is_empty() {
        return Vec::new();
    }
    let mut ids = Vec::new();
    for t in tracks {
        for &r in &t.chap_refs {
            if !ids.contains(&r) && tracks.iter().any(|x| x.id == r && &x.handler == b"vide") {
                ids.push(r);
            }
        }
    }
    ids
}

/// Header of a `free` box of `total` bytes (`total` ≥ 8).
pub(super) fn free_header(total: u64) -> Vec<u8> {
    let mut h = Vec::with_capacity(16);
    if total <= u64::from(u32::MAX) {
        h.extend_from_slice(&(total as u32).to_be_bytes());
        h.extend_from_slice(b"free");
    } else {
        h.extend_from_slice(&1u32.to_be_bytes());
        h.extend_from_slice(b"free");
        h.extend_from_slice(&total.to_be_bytes());
    }
    h
}

/// The in-place plan: `moov`, then `left` bytes of `free`, with the chapter `mdat` before
/// the free space, or after it when it must end where the audio begins (`tail_payload`).
/// A large free body is not zeroed: only its header is written.
fn in_place(
    path: &Path,
    ld: &mut Loaded,
    region: &Region,
    moov: Vec<u8>,
    mdat: Vec<u8>,
    left: u64,
) -> Result<Plan, Mp4Error> {
    let tail = region.tail_payload.is_some();
    let mut data = moov;
    if !tail {
        data.extend_from_slice(&mdat);
    }
    let mut patches = Vec::with_capacity(2);
    if left > 0 {
        data.extend_from_slice(&free_header(left));
        if left <= MAX_ZEROED_FREE {
            let pad = left as usize - free_header(left).len();
            data.resize(data.len() + pad, 0);
        }
    }
    if tail {
        if left <= MAX_ZEROED_FREE {
            data.extend_from_slice(&mdat);
        } else {
            patches.push(Patch {
                offset: region.end - mdat.len() as u64,
                data: mdat,
            });
        }
    }
    patches.insert(
        0,
        Patch {
            offset: region.start,
            data,
        },
    );
    let mut unchanged = true;
    for p in &patches {
        let on_disk = read::read_range(
            &mut ld.file,
            path,
            p.offset,
            p.data.len(),
            "reading the current moov",
        )?;
        unchanged &= on_disk == p.data;
    }
    if unchanged {
        return Ok(Plan::Unchanged);
    }
    Ok(Plan::Patch(patches))
}

/// Chooses between an in-place patch and a rebuild, and produces the plan.
fn layout(
    path: &Path,
    ld: &mut Loaded,
    region: &Region,
    new_trak_pos: Option<usize>,
    movie_ts: u32,
    prepared: &Prepared,
) -> Result<Plan, Mp4Error> {
    let new_trak = match new_trak_pos {
        Some(pos) => {
            let id = ld
                .moov
                .children()
                .get(pos)
                .and_then(|n| n.payload().get(..4))
                .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
                .ok_or_else(|| Mp4Error::malformed(path, "moov", "lost the chapter track slot"))?;
            Some((pos, id))
        }
        None => None,
    };
    let region_len = region.end - region.start;

    // In place: same region, nothing else moves.
    let (moov, mdat) = assemble(path, &ld.moov, new_trak, prepared, movie_ts, region, 0)?;
    let content = (moov.len() + mdat.len()) as u64;
    let leftover = region_len.checked_sub(content);
    if let Some(left) = leftover.filter(|&l| l == 0 || l >= 8) {
        return in_place(path, ld, region, moov, mdat, left);
    }
    // Before the rebuild's own: both would hold a copy of the chapter images.
    drop((moov, mdat));

    // Grow in place: blocks inserted at the start, or the file extended at its end.
    let ed = super::grow::Edited {
        path,
        new_trak,
        prepared,
        movie_ts,
    };
    if let Some(plan) = super::grow::grow(&ed, ld, region)? {
        return Ok(plan);
    }

    // Rebuild: the region gets the new content plus padding; everything after it moves by
    // the size difference, and every chunk offset pointing there moves with it. Converting an
    // stco to co64 grows moov, which changes the shift: iterate to the fixed point (at most
    // once per track).
    let pad = prepared.padding;
    let start = (content + pad) as i64 - region_len as i64;
    let (moov, mdat, delta) = settle(path, &ld.moov, new_trak, prepared, movie_ts, region, start)?;
    let mut padding = Vec::new();
    if pad > 0 {
        padding = free_header(pad);
        padding.resize(padding.len() + (pad as usize - 8), 0);
    }
    // Separate pieces, not one buffer: the chapter `mdat` holds the chapter images, and
    // joining it to `moov` would copy them once more.
    let parts = if region.tail_payload.is_some() {
        [moov, padding, mdat]
    } else {
        [moov, mdat, padding]
    };
    let pieces = around_region(region, ld.len, parts);
    log::debug!(
        "{}: rebuilding; moov region {}..{} moves the rest by {delta} bytes",
        path.display(),
        region.start,
        region.end
    );
    Ok(Plan::Rebuild(pieces))
}

/// Assembles moov + chapter mdat for a rebuild, shifting chunk offsets by the growth of the
/// region. Converting an stco to co64 grows moov, which changes the shift: iterates to the
/// fixed point (at most once per track), starting from `start`.
fn settle(
    path: &Path,
    moov_node: &Node,
    new_trak: Option<(usize, u32)>,
    prepared: &Prepared,
    movie_ts: u32,
    region: &Region,
    start: i64,
) -> Result<(Vec<u8>, Vec<u8>, i64), Mp4Error> {
    let pad = prepared.padding;
    let region_len = region.end - region.start;
    let mut delta = start;
    let mut built = None;
    for _ in 0..64 {
        let (moov, mdat) = assemble(path, moov_node, new_trak, prepared, movie_ts, region, delta)?;
        let new_len = (moov.len() + mdat.len()) as u64 + pad;
        let d = new_len as i64 - region_len as i64;
        if d == delta {
            built = Some((moov, mdat));
            break;
        }
        delta = d;
    }
    let Some((moov, mdat)) = built else {
        return Err(Mp4Error::malformed(
            path,
            "moov",
            "chunk offsets did not settle while growing moov",
        ));
    };
    Ok((moov, mdat, delta))
}

/// The rebuilt file: the bytes before the region, `parts` (the empty ones left out), then
/// the bytes after it.
pub(super) fn around_region(region: &Region, file_len: u64, parts: [Vec<u8>; 3]) -> Vec<Piece> {
    let mut pieces = Vec::with_capacity(5);
    if region.start > 0 {
        pieces.push(Piece::Copy {
            offset: 0,
            len: region.start,
        });
    }
    pieces.extend(
        parts
            .into_iter()
            .filter(|p| !p.is_empty())
            .map(Piece::Bytes),
    );
    if region.end < file_len {
        pieces.push(Piece::Copy {
            offset: region.end,
            len: file_len - region.end,
        });
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chapter::{Chapter, Link};

    #[test]
    fn cut_on_char_boundary() {
        let s = "日本語".repeat(100); // 900 bytes
        let c = cut_utf8(&s, 255);
        assert_eq!(c.len(), 255);
        let s = format!("a{}", "日".repeat(100));
        let c = cut_utf8(&s, 255);
        assert_eq!(c.len(), 253);
        assert!(s.starts_with(c));
    }

    #[test]
    fn chpl_layout() {
        let list = ChapterList::new(vec![
            Chapter::new(Time::ZERO, "Intro"),
            Chapter::new(Time::from_secs(3), "日".repeat(90)),
        ]);
        let p = chpl_payload(&list);
        assert_eq!(&p[..9], &[1, 0, 0, 0, 0, 0, 0, 0, 2]);
        assert_eq!(&p[9..17], &0u64.to_be_bytes());
        assert_eq!(p[17], 5);
        let second = 9 + 8 + 1 + 5;
        assert_eq!(&p[second..second + 8], &30_000_000u64.to_be_bytes());
        assert_eq!(p[second + 8], 255);
        assert_eq!(p.len(), second + 9 + 255);
    }

    #[test]
    fn text_sample_layout() {
        let s = text_sample("Main", None);
        assert_eq!(
            s,
            [
                0, 4, b'M', b'a', b'i', b'n', 0, 0, 0, 12, b'e', b'n', b'c', b'd', 0, 0, 1, 0
            ]
        );
        let link = Link {
            url: "https://例え.jp/パス".into(),
            label: Some("src".into()),
        };
        let h = href_box(Path::new("x.m4a"), 1, "日本", &link).unwrap();
        assert_eq!(&h[4..8], b"href");
        assert_eq!(&h[8..12], &[0, 0, 0, 2]);
        let url = "https://xn--r8jz45g.jp/%E3%83%91%E3%82%B9";
        assert_eq!(h[12] as usize, url.len());
        assert_eq!(&h[13..13 + url.len()], url.as_bytes());
        assert_eq!(h[13 + url.len()], 3);
    }

    #[test]
    fn urls() {
        assert_eq!(ascii_url("https://a.example").unwrap(), "https://a.example");
        assert!(ascii_url("not a url").is_err());
        let long = format!("https://a.example/{}", "x".repeat(300));
        assert!(ascii_url(&long).unwrap_err().contains("at most 255"));
    }

    /// A minimal moov: mvhd (timescale 1000, next track 2) and one sound track whose chunk
    /// offsets are `offsets`.
    fn synthetic_moov(offsets: &[u64]) -> Node {
        let mut mvhd = vec![0u8; 100];
        mvhd[12..16].copy_from_slice(&1000u32.to_be_bytes());
        mvhd[96..100].copy_from_slice(&2u32.to_be_bytes());
        let mut tkhd = vec![0u8; 84];
        tkhd[12..16].copy_from_slice(&1u32.to_be_bytes());
        let mut hdlr = vec![0u8; 8];
        hdlr.extend_from_slice(b"soun");
        hdlr.extend_from_slice(&[0; 13]);
        let stbl = Node::container(b"stbl", vec![boxes::chunk_offset_box(offsets, false)]);
        let minf = Node::container(b"minf", vec![stbl]);
        let mdia = Node::container(b"mdia", vec![Node::leaf(b"hdlr", &hdlr), minf]);
        let trak = Node::container(b"trak", vec![Node::leaf(b"tkhd", &tkhd), mdia]);
        Node::container(b"moov", vec![Node::leaf(b"mvhd", &mvhd), trak])
    }

    fn offsets_of(moov: &Node) -> (FourCc, Vec<u64>) {
        let trak = moov.child(b"trak").unwrap();
        let b = chunk_box(trak).unwrap();
        (b.typ, boxes::chunk_offsets(&b.typ, b.payload()).unwrap())
    }

    #[test]
    fn shifting_past_4_gib_switches_to_co64() {
        let near = u64::from(u32::MAX) - 10;
        let mut moov = synthetic_moov(&[40, 5_000, near]);
        shift_offsets(Path::new("x.m4a"), &mut moov, None, 1_000, 100).unwrap();
        assert_eq!(offsets_of(&moov), (*b"co64", vec![40, 5_100, near + 100]));
        // co64 stays co64 even when the offsets would fit again.
        shift_offsets(Path::new("x.m4a"), &mut moov, None, 1_000, -200).unwrap();
        assert_eq!(offsets_of(&moov), (*b"co64", vec![40, 4_900, near - 100]));
        // Shrinking never converts.
        let mut moov = synthetic_moov(&[40, 5_000]);
        shift_offsets(Path::new("x.m4a"), &mut moov, None, 1_000, -64).unwrap();
        assert_eq!(offsets_of(&moov), (*b"stco", vec![40, 4_936]));
    }

    #[test]
    fn chapter_track_beyond_4_gib_uses_co64() {
        let path = Path::new("x.m4a");
        let mut moov = synthetic_moov(&[40]);
        let ld_tracks = read::tracks(path, &moov).unwrap();
        let prepared = prepare(
            path,
            &three_chapters(),
            SampleTime::new(441_000, 22_050),
            &Mp4Options::default(),
        )
        .unwrap();
        let pos = edit_moov(path, &mut moov, &ld_tracks, &[], &prepared)
            .unwrap()
            .unwrap();
        let region = Region {
            start: 5 << 30,
            end: (5 << 30) + 1_000,
            tail_payload: None,
        };
        let (bytes, mdat) =
            assemble(path, &moov, Some((pos, 2)), &prepared, 1000, &region, 0).unwrap();
        let built = boxes::parse_box(&bytes).unwrap();
        let trak = &built.children()[pos];
        let (typ, offs) = (chunk_box(trak).unwrap().typ, {
            let b = chunk_box(trak).unwrap();
            boxes::chunk_offsets(&b.typ, b.payload()).unwrap()
        });
        assert_eq!(&typ, b"co64");
        // One chunk per sample, back to back after the mdat header.
        let first = (5 << 30) + bytes.len() as u64 + 8;
        let sizes: Vec<u64> = prepared
            .track
            .as_ref()
            .unwrap()
            .samples
            .iter()
            .map(|s| s.len() as u64)
            .collect();
        assert_eq!(
            offs,
            vec![first, first + sizes[0], first + sizes[0] + sizes[1]]
        );
        assert_eq!(&mdat[4..8], b"mdat");
        // The sound track references it and mvhd's next track ID moved past it.
        let snd = &built.children()[1];
        assert_eq!(chap_ids(snd), vec![2]);
        let mvhd = built.child(b"mvhd").unwrap().payload();
        assert_eq!(&mvhd[96..100], &3u32.to_be_bytes());
        // chpl went into a new udta at the end.
        assert_eq!(&built.children().last().unwrap().typ, b"udta");
    }

    fn three_chapters() -> ChapterList {
        ChapterList::new(vec![
            Chapter::new(Time::ZERO, "A"),
            Chapter::new(Time::from_secs(5), "B"),
            Chapter::new(Time::from_secs(10), "C"),
        ])
    }

    #[test]
    fn text_sample_entry_size() {
        assert_eq!(Node::leaf(b"text", &TEXT_SAMPLE_ENTRY).size(), 59);
    }
}
