//! Reading: the file's top-level layout, `moov`, its tracks, and both chapter forms.

use super::boxes::{self, FourCc, Node, Rd, TopBox};
use super::{MAX_MOOV_SIZE, Mp4Error};
use crate::chapter::{Chapter, ChapterList, Link};
use crate::time::Time;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// A file opened for chapter work: its top-level boxes and the parsed `moov`.
pub(crate) struct Loaded {
    pub file: File,
    pub len: u64,
    pub top: Vec<TopBox>,
    /// Index of `moov` in `top`.
    pub moov_at: usize,
    pub moov: Node,
}

/// Opens `path`, scans the top-level boxes and loads `moov` (capped at [`MAX_MOOV_SIZE`]).
pub(crate) fn load(path: &Path) -> Result<Loaded, Mp4Error> {
    let mut file = File::open(path).map_err(Mp4Error::io(path, "opening the file"))?;
    let len = file
        .metadata()
        .map_err(Mp4Error::io(path, "reading metadata"))?
        .len();
    let top = boxes::scan_top_level(&mut file, len).map_err(|e| match e {
        boxes::ScanError::Io(source) => Mp4Error::Io {
            path: path.to_path_buf(),
            action: "reading box headers",
            source,
        },
        boxes::ScanError::Problem(p) => Mp4Error::from_problem(path, p),
    })?;
    let moovs: Vec<usize> = top
        .iter()
        .enumerate()
        .filter(|(_, b)| &b.typ == b"moov")
        .map(|(i, _)| i)
        .collect();
    let moov_at = match moovs.as_slice() {
        [] => {
            return Err(Mp4Error::NoMoov {
                path: path.to_path_buf(),
            });
        }
        [one] => *one,
        many => {
            return Err(Mp4Error::MultipleMoov {
                path: path.to_path_buf(),
                count: many.len(),
            });
        }
    };
    let mb = top[moov_at];
    if mb.size > MAX_MOOV_SIZE {
        return Err(Mp4Error::MoovTooLarge {
            path: path.to_path_buf(),
            size: mb.size,
            limit: MAX_MOOV_SIZE,
        });
    }
    let bytes = read_range(&mut file, path, mb.offset, mb.size as usize, "reading moov")?;
    let moov = boxes::parse_box(&bytes).map_err(|p| Mp4Error::from_problem(path, p))?;
    Ok(Loaded {
        file,
        len,
        top,
        moov_at,
        moov,
    })
}

/// Reads `len` bytes at `offset` (the caller has capped `len`).
pub(crate) fn read_range(
    file: &mut File,
    path: &Path,
    offset: u64,
    len: usize,
    action: &'static str,
) -> Result<Vec<u8>, Mp4Error> {
    let mut buf = vec![0u8; len];
    file.seek(SeekFrom::Start(offset))
        .map_err(Mp4Error::io(path, action))?;
    file.read_exact(&mut buf)
        .map_err(Mp4Error::io(path, action))?;
    Ok(buf)
}

/// What we need to know about one `trak`.
#[derive(Debug, Clone)]
pub(crate) struct Track {
    /// Index among `moov`'s children.
    pub pos: usize,
    /// `moov/trak[n]` for messages.
    pub path: String,
    pub id: u32,
    pub handler: FourCc,
    /// Track IDs listed in `tref/chap`.
    pub chap_refs: Vec<u32>,
}

/// Lists the tracks of `moov` with their IDs, handlers and chapter references.
pub(crate) fn tracks(path: &Path, moov: &Node) -> Result<Vec<Track>, Mp4Error> {
    let mut out = Vec::new();
    let mut n = 0usize;
    for (pos, child) in moov.children().iter().enumerate() {
        if &child.typ != b"trak" {
            continue;
        }
        n += 1;
        let tpath = format!("moov/trak[{n}]");
        let tkhd = child
            .child(b"tkhd")
            .ok_or_else(|| Mp4Error::malformed(path, &tpath, "no tkhd box"))?;
        let id = tkhd_track_id(tkhd.payload()).ok_or_else(|| {
            Mp4Error::malformed(path, format!("{tpath}/tkhd"), "box is too short")
        })?;
        let handler = child
            .find(&[b"mdia", b"hdlr"])
            .and_then(|h| h.payload().get(8..12))
            .map(|b| [b[0], b[1], b[2], b[3]])
            .unwrap_or(*b"    ");
        let mut chap_refs = Vec::new();
        if let Some(chap) = child.find(&[b"tref", b"chap"]) {
            let p = chap.payload();
            if p.len() % 4 != 0 {
                return Err(Mp4Error::malformed(
                    path,
                    format!("{tpath}/tref/chap"),
                    format!("size {} is not a whole number of track ids", p.len()),
                ));
            }
            chap_refs = p
                .chunks_exact(4)
                .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
        }
        out.push(Track {
            pos,
            path: tpath,
            id,
            handler,
            chap_refs,
        });
    }
    Ok(out)
}

fn tkhd_track_id(p: &[u8]) -> Option<u32> {
    let (v, _) = boxes::full_box(p)?;
    let mut r = Rd::new(p);
    r.skip(4)?;
    r.skip(if v == 1 { 16 } else { 8 })?;
    r.u32()
}

/// The movie timescale from `mvhd`.
pub(crate) fn movie_timescale(path: &Path, moov: &Node) -> Result<u32, Mp4Error> {
    let mvhd = moov
        .child(b"mvhd")
        .ok_or_else(|| Mp4Error::malformed(path, "moov", "no mvhd box"))?;
    let p = mvhd.payload();
    let ts = boxes::full_box(p).and_then(|(v, _)| {
        let mut r = Rd::new(p);
        r.skip(4)?;
        r.skip(if v == 1 { 16 } else { 8 })?;
        r.u32()
    });
    match ts {
        Some(0) => Err(Mp4Error::malformed(path, "moov/mvhd", "timescale is 0")),
        Some(t) => Ok(t),
        None => Err(Mp4Error::malformed(path, "moov/mvhd", "box is too short")),
    }
}

/// Handlers of tracks that hold chapter titles: QuickTime `text` (Apple, ffmpeg, us) and
/// the subtitle handlers some tools use for the same samples.
const CHAPTER_HANDLERS: [&FourCc; 3] = [b"text", b"sbtl", b"subt"];

/// Whether a track with this handler holds chapter titles. The probe's chapter count and the
/// reader both ask this, so a chapter image track (`vide`) is never counted as chapters.
pub(crate) fn is_chapter_handler(handler: &FourCc) -> bool {
    CHAPTER_HANDLERS.contains(&handler)
}

/// Track IDs referenced by any `tref/chap` whose track holds text: the chapter tracks.
/// Other referenced tracks (chapter images in a `vide` track) are not ours and are kept.
pub(crate) fn chapter_track_ids(tracks: &[Track]) -> Vec<u32> {
    let mut ids: Vec<u32> = Vec::new();
    for t in tracks {
        for &r in &t.chap_refs {
            if !ids.contains(&r)
                && tracks
                    .iter()
                    .any(|x| x.id == r && is_chapter_handler(&x.handler))
            {
                ids.push(r);
            }
        }
    }
    ids
}

/// Both chapter forms as found in a file, for `show` and for checking that they agree.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Mp4ChapterForms {
    /// The QuickTime chapter track, with URLs from `href` boxes; `None` when absent.
    pub track: Option<ChapterList>,
    /// The Nero `chpl` list; `None` when absent. Its titles may be cut at 255 bytes.
    pub nero: Option<ChapterList>,
}

/// Reads the chapters of an MP4 file: the QuickTime chapter track (which carries URLs and
/// uncut titles) when there is one, else the Nero `chpl` list, else an empty list.
pub fn read_chapters(path: &Path) -> Result<ChapterList, Mp4Error> {
    let forms = read_forms(path)?;
    Ok(forms.track.or(forms.nero).unwrap_or_default())
}

/// Reads both chapter forms separately.
pub fn read_forms(path: &Path) -> Result<Mp4ChapterForms, Mp4Error> {
    let mut ld = load(path)?;
    let nero = match ld.moov.find(&[b"udta", b"chpl"]) {
        Some(chpl) => Some(
            parse_chpl(chpl.payload())
                .map_err(|p| Mp4Error::malformed(path, "moov/udta/chpl", p))?,
        ),
        None => None,
    };
    let tracks = tracks(path, &ld.moov)?;
    let track = match chapter_track_ids(&tracks).first() {
        Some(&id) => match tracks.iter().find(|t| t.id == id) {
            Some(t) => {
                let movie_ts = movie_timescale(path, &ld.moov)?;
                let trak = ld.moov.children().get(t.pos).cloned();
                match trak {
                    Some(trak) => Some(read_chapter_track(
                        path,
                        &mut ld.file,
                        ld.len,
                        &trak,
                        &t.path,
                        movie_ts,
                    )?),
                    None => None,
                }
            }
            None => None,
        },
        None => None,
    };
    let mut track = track;
    if let Some(list) = &mut track {
        attach_images(path, &mut ld, &tracks, list)?;
    }
    Ok(Mp4ChapterForms { track, nero })
}

/// Most bytes of chapter images read from one file: a hostile sample table can point every
/// sample at the same large range.
const MAX_IMAGE_TRACK_BYTES: u64 = 256 << 20;

/// Gives each chapter the image of the chapter-image track (a `vide` track that `tref/chap`
/// references) sample showing at its start.
fn attach_images(
    path: &Path,
    ld: &mut Loaded,
    tracks: &[Track],
    list: &mut ChapterList,
) -> Result<(), Mp4Error> {
    let refs: Vec<u32> = tracks.iter().flat_map(|t| t.chap_refs.clone()).collect();
    let Some(t) = tracks
        .iter()
        .find(|t| &t.handler == b"vide" && refs.contains(&t.id))
    else {
        return Ok(());
    };
    let Some(trak) = ld.moov.children().get(t.pos).cloned() else {
        return Ok(());
    };
    let tables = read_tables(path, &trak, &t.path)?;
    let mut starts = Vec::with_capacity(tables.durations.len());
    let mut at = 0u64;
    for &d in &tables.durations {
        starts.push(Time::from_units(at, u64::from(tables.timescale)).unwrap_or(Time::ZERO));
        at = at.saturating_add(d);
    }
    let mut total = 0u64;
    for ch in &mut list.chapters {
        // The last sample starting at or before the chapter.
        let Some(i) = starts.iter().rposition(|&s| s <= ch.start) else {
            continue;
        };
        let Some(&(off, size)) = tables.locations.get(i) else {
            continue;
        };
        let size = u64::from(size);
        total = total.saturating_add(size);
        if size > crate::image::MAX_IMAGE_BYTES as u64
            || total > MAX_IMAGE_TRACK_BYTES
            || off.checked_add(size).is_none_or(|e| e > ld.len)
        {
            log::warn!(
                "{}: {} sample {} ({size} bytes at {off}) is not a chapter image we read",
                path.display(),
                t.path,
                i + 1
            );
            continue;
        }
        let data = read_range(
            &mut ld.file,
            path,
            off,
            size as usize,
            "reading chapter images",
        )?;
        ch.picture = Some(crate::image::Picture::new(data, None));
    }
    Ok(())
}

/// Parses a `chpl` payload (version 0 as written by mp4ameta, or version 1 with its four
/// extra bytes as written by Nero, ffmpeg and us).
pub(crate) fn parse_chpl(p: &[u8]) -> Result<ChapterList, String> {
    let mut r = Rd::new(p);
    let (version, _) = boxes::full_box(p).ok_or("box is too short")?;
    r.skip(4).ok_or("box is too short")?;
    match version {
        0 => {}
        1 => r.skip(4).ok_or("box is too short")?,
        v => return Err(format!("unknown version {v}")),
    }
    let count = r.u8().ok_or("box is too short")?;
    let mut chapters = Vec::with_capacity(usize::from(count));
    for i in 0..count {
        let cut = || {
            format!(
                "chapter {} of {count} is cut off by the end of the box",
                i + 1
            )
        };
        let start = r.u64().ok_or_else(cut)?;
        let n = r.u8().ok_or_else(cut)?;
        let title = r.bytes(usize::from(n)).ok_or_else(cut)?;
        let start = Time::from_units(start, 10_000_000).unwrap_or(Time::ZERO);
        chapters.push(Chapter::new(start, decode_utf8(title)));
    }
    Ok(ChapterList::new(chapters))
}

fn decode_utf8(b: &[u8]) -> String {
    match std::str::from_utf8(b) {
        Ok(s) => s.to_string(),
        Err(_) => {
            log::warn!("mp4 chapter title is not valid utf-8; replacing the bad bytes");
            String::from_utf8_lossy(b).into_owned()
        }
    }
}

/// Chapter tracks with more samples than this are not chapter tracks we will load.
use super::MAX_CHAPTER_TRACK_SAMPLES as MAX_CHAPTER_SAMPLES;
/// A chapter sample is a title plus a few small boxes; anything bigger is not one.
const MAX_CHAPTER_SAMPLE_SIZE: u32 = 1 << 20;

/// Sample tables of one track, as far as chapter reading needs them.
struct SampleTables {
    timescale: u32,
    /// Per sample: duration.
    durations: Vec<u64>,
    /// Per sample: (offset, size).
    locations: Vec<(u64, u32)>,
    /// Presentation time of media time `media_start`, from a leading empty edit, in movie
    /// timescale.
    empty_edit: u64,
    /// Media time (track timescale) the edit after a leading empty edit starts at; samples
    /// before it are not presented.
    media_start: u64,
}

fn table<'a>(trak: &'a Node, name: &FourCc) -> Option<&'a Node> {
    trak.find(&[b"mdia", b"minf", b"stbl", name])
}

/// Where every sample of a track lies: `(offset, size)` in file order of the sample tables.
pub(crate) fn sample_extents(
    path: &Path,
    trak: &Node,
    tpath: &str,
) -> Result<Vec<(u64, u32)>, Mp4Error> {
    Ok(read_tables(path, trak, tpath)?.locations)
}

/// Where a track's boxes are, for error messages: the file and `moov/trak[N]`.
#[derive(Clone, Copy)]
struct TrakAt<'a> {
    path: &'a Path,
    tpath: &'a str,
}

impl TrakAt<'_> {
    fn bad(&self, b: &str, what: String) -> Mp4Error {
        Mp4Error::malformed(self.path, format!("{}/{b}", self.tpath), what)
    }

    fn short(&self, b: &str) -> Mp4Error {
        self.bad(b, "box is too short".to_string())
    }
}

const STBL: &str = "mdia/minf/stbl";

fn read_tables(path: &Path, trak: &Node, tpath: &str) -> Result<SampleTables, Mp4Error> {
    let at = TrakAt { path, tpath };
    let timescale = mdhd_timescale(at, trak)?;
    let sizes = read_stsz(at, trak)?;
    let count = sizes.len();
    let durations = read_stts(at, trak, count)?;
    let runs = read_stsc(at, trak)?;
    let locations = sample_locations(at, trak, &runs, &sizes)?;
    let (empty_edit, media_start) = leading_edit(trak);
    Ok(SampleTables {
        timescale,
        durations,
        locations,
        empty_edit,
        media_start,
    })
}

fn mdhd_timescale(at: TrakAt<'_>, trak: &Node) -> Result<u32, Mp4Error> {
    let mdhd = trak
        .find(&[b"mdia", b"mdhd"])
        .ok_or_else(|| at.bad("mdia", "no mdhd box".into()))?;
    let p = mdhd.payload();
    let timescale = boxes::full_box(p)
        .and_then(|(v, _)| {
            let mut r = Rd::new(p);
            r.skip(4)?;
            r.skip(if v == 1 { 16 } else { 8 })?;
            r.u32()
        })
        .ok_or_else(|| at.short("mdia/mdhd"))?;
    if timescale == 0 {
        return Err(at.bad("mdia/mdhd", "timescale is 0".into()));
    }
    Ok(timescale)
}

/// Sample sizes (`stsz`), at most [`MAX_CHAPTER_SAMPLES`].
fn read_stsz(at: TrakAt<'_>, trak: &Node) -> Result<Vec<u32>, Mp4Error> {
    let stsz = table(trak, b"stsz").ok_or_else(|| at.bad(STBL, "no stsz box".into()))?;
    let mut r = Rd::new(stsz.payload());
    r.skip(4).ok_or_else(|| at.short("mdia/minf/stbl/stsz"))?;
    let uniform = r.u32().ok_or_else(|| at.short("mdia/minf/stbl/stsz"))?;
    let count = r.u32().ok_or_else(|| at.short("mdia/minf/stbl/stsz"))? as usize;
    if count > MAX_CHAPTER_SAMPLES {
        return Err(at.bad(
            "mdia/minf/stbl/stsz",
            format!("{count} samples; a chapter track has at most {MAX_CHAPTER_SAMPLES}"),
        ));
    }
    Ok(if uniform != 0 {
        vec![uniform; count]
    } else {
        if count.saturating_mul(4) > r.remaining() {
            return Err(at.bad(
                "mdia/minf/stbl/stsz",
                format!("entry count {count} exceeds the box size"),
            ));
        }
        (0..count).filter_map(|_| r.u32()).collect()
    })
}

/// Per-sample durations (`stts`) for `count` samples.
fn read_stts(at: TrakAt<'_>, trak: &Node, count: usize) -> Result<Vec<u64>, Mp4Error> {
    let stts = table(trak, b"stts").ok_or_else(|| at.bad(STBL, "no stts box".into()))?;
    let mut r = Rd::new(stts.payload());
    r.skip(4).ok_or_else(|| at.short("mdia/minf/stbl/stts"))?;
    let n = r.u32().ok_or_else(|| at.short("mdia/minf/stbl/stts"))? as usize;
    if n.saturating_mul(8) > r.remaining() {
        return Err(at.bad(
            "mdia/minf/stbl/stts",
            format!("entry count {n} exceeds the box size"),
        ));
    }
    let mut durations = Vec::with_capacity(count);
    for _ in 0..n {
        let (Some(c), Some(d)) = (r.u32(), r.u32()) else {
            break;
        };
        for _ in 0..c {
            if durations.len() >= count {
                break;
            }
            durations.push(u64::from(d));
        }
    }
    if durations.len() < count {
        return Err(at.bad(
            "mdia/minf/stbl/stts",
            format!("times {} samples but stsz has {count}", durations.len()),
        ));
    }
    Ok(durations)
}

/// Sample-to-chunk runs (`stsc`): (first chunk, samples per chunk).
fn read_stsc(at: TrakAt<'_>, trak: &Node) -> Result<Vec<(u32, u32)>, Mp4Error> {
    let stsc = table(trak, b"stsc").ok_or_else(|| at.bad(STBL, "no stsc box".into()))?;
    let mut r = Rd::new(stsc.payload());
    r.skip(4).ok_or_else(|| at.short("mdia/minf/stbl/stsc"))?;
    let n = r.u32().ok_or_else(|| at.short("mdia/minf/stbl/stsc"))? as usize;
    if n.saturating_mul(12) > r.remaining() {
        return Err(at.bad(
            "mdia/minf/stbl/stsc",
            format!("entry count {n} exceeds the box size"),
        ));
    }
    let mut runs: Vec<(u32, u32)> = Vec::with_capacity(n);
    for _ in 0..n {
        let (Some(first), Some(per), Some(_)) = (r.u32(), r.u32(), r.u32()) else {
            break;
        };
        runs.push((first, per));
    }
    Ok(runs)
}

/// Offset and size of every sample, from the chunk offsets and the `stsc` runs.
fn sample_locations(
    at: TrakAt<'_>,
    trak: &Node,
    runs: &[(u32, u32)],
    sizes: &[u32],
) -> Result<Vec<(u64, u32)>, Mp4Error> {
    let count = sizes.len();
    let (co, co_name) = match (table(trak, b"stco"), table(trak, b"co64")) {
        (Some(b), _) => (b, "stco"),
        (None, Some(b)) => (b, "co64"),
        (None, None) => return Err(at.bad(STBL, "no stco or co64 box".into())),
    };
    let chunks = boxes::chunk_offsets(&co.typ, co.payload())
        .map_err(|e| at.bad(&format!("{STBL}/{co_name}"), e))?;

    let mut locations = Vec::with_capacity(count);
    let mut run = 0usize;
    'chunks: for (ci, &chunk_off) in chunks.iter().enumerate() {
        let chunk_no = (ci + 1) as u64;
        while run + 1 < runs.len() && u64::from(runs[run + 1].0) <= chunk_no {
            run += 1;
        }
        let per = runs.get(run).map_or(0, |r| r.1);
        let mut off = chunk_off;
        for _ in 0..per {
            let Some(&size) = sizes.get(locations.len()) else {
                break 'chunks;
            };
            locations.push((off, size));
            off = off.saturating_add(u64::from(size));
        }
    }
    if locations.len() < count {
        return Err(at.bad(
            STBL,
            format!(
                "the chunk tables place {} of {count} samples",
                locations.len()
            ),
        ));
    }
    Ok(locations)
}

/// A leading empty edit shifts the whole track (how a first chapter after 0:00 is kept), and
/// the edit after it may start the media later (skipping chapmark's filler sample): the empty
/// edit's length (movie timescale) and that media time (track timescale), or zeros.
fn leading_edit(trak: &Node) -> (u64, u64) {
    let Some(p) = trak.find(&[b"edts", b"elst"]).map(Node::payload) else {
        return (0, 0);
    };
    let Some((v, _)) = boxes::full_box(p) else {
        return (0, 0);
    };
    let mut r = Rd::new(p);
    r.skip(8);
    // (duration, media time; None for an empty edit); the rate field is skipped.
    let mut entry = || {
        let e = if v == 1 {
            r.u64()
                .zip(r.u64())
                .map(|(d, t)| (d, (t != u64::MAX).then_some(t)))
        } else {
            r.u32()
                .zip(r.u32())
                .map(|(d, t)| (u64::from(d), (t != u32::MAX).then_some(u64::from(t))))
        };
        r.skip(4);
        e
    };
    match entry() {
        Some((d, None)) => match entry() {
            Some((_, Some(t))) => (d, t),
            _ => (d, 0),
        },
        _ => (0, 0),
    }
}

/// Reads the chapter track's samples from the file: one chapter per sample.
fn read_chapter_track(
    path: &Path,
    file: &mut File,
    file_len: u64,
    trak: &Node,
    tpath: &str,
    movie_ts: u32,
) -> Result<ChapterList, Mp4Error> {
    let t = read_tables(path, trak, tpath)?;
    let offset_ms = Time::from_units(t.empty_edit, u64::from(movie_ts)).unwrap_or(Time::ZERO);
    let mut chapters = Vec::with_capacity(t.locations.len());
    let mut at = 0u64;
    for (i, (&(off, size), &dur)) in t.locations.iter().zip(&t.durations).enumerate() {
        let sample_path = format!("{tpath} sample {}", i + 1);
        if size > MAX_CHAPTER_SAMPLE_SIZE {
            return Err(Mp4Error::malformed(
                path,
                sample_path,
                format!("{size} bytes is too large for a chapter title"),
            ));
        }
        if off
            .checked_add(u64::from(size))
            .is_none_or(|e| e > file_len)
        {
            return Err(Mp4Error::malformed(
                path,
                sample_path,
                format!("{size} bytes at offset {off} run past the end of the file"),
            ));
        }
        let data = read_range(file, path, off, size as usize, "reading chapter samples")?;
        let (title, link) =
            parse_text_sample(&data).map_err(|p| Mp4Error::malformed(path, sample_path, p))?;
        let media = at;
        at = at.saturating_add(dur);
        if at <= t.media_start {
            continue; // before the edit: never presented
        }
        let present = |m: u64| {
            Time::from_units(m.saturating_sub(t.media_start), u64::from(t.timescale))
                .unwrap_or(Time::ZERO)
                .saturating_add(offset_ms)
        };
        let (start, end) = (present(media), present(at));
        let mut c = Chapter::new(start, title);
        c.end = Some(end);
        c.link = link;
        chapters.push(c);
    }
    // We (and careful writers) fill the time before a first chapter that starts after 0:00
    // with an untitled sample; it is padding, not a chapter anyone wrote.
    if chapters.len() > 1
        && chapters
            .first()
            .is_some_and(|c| c.start == Time::ZERO && c.title.is_empty() && c.link.is_none())
    {
        chapters.remove(0);
    }
    Ok(ChapterList::new(chapters))
}

/// Decodes one QuickTime text sample: u16 length, text (UTF-8, or UTF-16 with a BOM), then
/// modifier boxes, of which we read `href`.
pub(crate) fn parse_text_sample(data: &[u8]) -> Result<(String, Option<Link>), String> {
    let mut r = Rd::new(data);
    let n = r.u16().ok_or("sample is shorter than its length field")?;
    let text = r
        .bytes(usize::from(n))
        .ok_or_else(|| format!("text length {n} exceeds the sample size {}", data.len()))?;
    let title = decode_text(text);
    let mut link = None;
    while r.remaining() >= 8 {
        let size = r.u32().ok_or("cut-off modifier box")? as usize;
        let typ = r.bytes(4).ok_or("cut-off modifier box")?;
        if size < 8 {
            break;
        }
        let Some(body) = r.bytes(size - 8) else {
            break;
        };
        if typ == b"href" && link.is_none() {
            let mut h = Rd::new(body);
            let parsed = (|| {
                h.skip(4)?;
                let ulen = h.u8()?;
                let url = h.bytes(usize::from(ulen))?;
                let alt = match h.u8() {
                    Some(alen) => h.bytes(usize::from(alen)).unwrap_or(&[]),
                    None => &[],
                };
                Some((url, alt))
            })();
            if let Some((url, alt)) = parsed {
                let url = decode_utf8(url);
                let alt = decode_utf8(alt);
                link = Some(Link {
                    url,
                    label: (!alt.is_empty()).then_some(alt),
                });
            }
        }
    }
    Ok((title, link))
}

fn decode_text(b: &[u8]) -> String {
    let utf16 = |be: bool| {
        let units: Vec<u16> = b[2..]
            .chunks_exact(2)
            .map(|c| {
                if be {
                    u16::from_be_bytes([c[0], c[1]])
                } else {
                    u16::from_le_bytes([c[0], c[1]])
                }
            })
            .collect();
        String::from_utf16_lossy(&units)
    };
    match b {
        [0xFE, 0xFF, ..] => utf16(true),
        [0xFF, 0xFE, ..] => utf16(false),
        [0xEF, 0xBB, 0xBF, rest @ ..] => decode_utf8(rest),
        _ => decode_utf8(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chpl_v0_and_v1() {
        let mut v1 = vec![1, 0, 0, 0, 0, 0, 0, 0, 2];
        v1.extend_from_slice(&0u64.to_be_bytes());
        v1.push(2);
        v1.extend_from_slice(b"Hi");
        v1.extend_from_slice(&30_000_000u64.to_be_bytes());
        v1.push(3);
        v1.extend_from_slice("日".as_bytes());
        let l = parse_chpl(&v1).unwrap();
        assert_eq!(l.chapters[1].start, Time::from_secs(3));
        assert_eq!(l.chapters[1].title, "日");
        let mut v0 = vec![0, 0, 0, 0, 1];
        v0.extend_from_slice(&10_000u64.to_be_bytes());
        v0.push(1);
        v0.push(b'A');
        let l = parse_chpl(&v0).unwrap();
        assert_eq!(l.chapters[0].start, Time::from_millis(1));
        // Count larger than the data: an error, not a panic.
        assert!(parse_chpl(&[1, 0, 0, 0, 0, 0, 0, 0, 9, 0]).is_err());
    }

    #[test]
    fn text_sample_with_href_and_utf16() {
        let mut s = vec![0, 5];
        s.extend_from_slice(b"Intro");
        s.extend_from_slice(&[0, 0, 0, 12, b'e', b'n', b'c', b'd', 0, 0, 1, 0]);
        let url = b"https://a.example/x";
        let mut href = vec![0, 0, 0, 5, url.len() as u8];
        href.extend_from_slice(url);
        href.push(3);
        href.extend_from_slice(b"alt");
        s.extend_from_slice(&((href.len() + 8) as u32).to_be_bytes());
        s.extend_from_slice(b"href");
        s.extend_from_slice(&href);
        let (t, l) = parse_text_sample(&s).unwrap();
        assert_eq!(t, "Intro");
        let l = l.unwrap();
        assert_eq!(l.url, "https://a.example/x");
        assert_eq!(l.label.as_deref(), Some("alt"));

        let s = [0, 6, 0xFE, 0xFF, 0x65, 0xE5, 0x67, 0x2C];
        assert_eq!(parse_text_sample(&s).unwrap().0, "日本");
        assert!(parse_text_sample(&[0, 9, b'a']).is_err());
        assert!(parse_text_sample(&[0]).is_err());
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_chpl_and_samples_never_panic(data in proptest::collection::vec(proptest::num::u8::ANY, 0..600)) {
            let _ = parse_chpl(&data);
            let _ = parse_text_sample(&data);
        }
    }
}
