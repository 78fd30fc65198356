//! MP4/M4A: the exact playable length of the audio track.
//!
//! The sample table (`stts`) gives the decoded length including the encoder's priming
//! samples (1024 or 2112 for AAC). The edit list (`elst`) says which part is presented; Apple's
//! `iTunSMPB` tag says the same in its own way. Players honour one or the other, so:
//!
//! 1. a non-trivial `elst` wins (`elst`);
//! 2. else `iTunSMPB` (`itunsmpb`);
//! 3. else the sample table as is (`stts`).
//!
//! An edit's duration is in the movie timescale (often 1000 — milliseconds, coarser than a
//! sample). When it lands within one movie tick of the end of the media, the edit means "to
//! the end" and the exact end is taken from the sample table; otherwise it is converted and
//! rounded, with a warning.
//!
//! `moov` before or after `mdat`, 32- and 64-bit box sizes and `stco`/`co64` are all read by
//! offset; `mdat` is never read.

use super::chapters::is_chapter_handler;
use super::stream::{BoxError, BoxHeader, children, header_at, small_body, u16_at, u32_at, u64_at};
use crate::container::Container;
use crate::container::io::Source;
use crate::probe::{Method, Mp4Chapters, ProbeError, ProbeInfo, TagSummary};
use crate::time::SampleTime;
use std::io::{Read, Seek};

/// One edit list entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Edit {
    /// In the movie timescale.
    segment_duration: u64,
    /// In the media timescale; −1 for an empty edit (a gap).
    media_time: i64,
}

/// What we need from the audio sample entry.
#[derive(Debug, Clone, Default)]
struct SampleEntry {
    kind: [u8; 4],
    channels: u16,
    /// From the 16.16 field; 0 when unusable.
    sample_rate: u32,
    /// MPEG-4 object type from `esds` (0x40 AAC, 0x6B/0x69 MP3).
    object_type: Option<u8>,
    /// AAC audio object type from the AudioSpecificConfig (2 LC, 5 SBR, 29 PS).
    aac_aot: Option<u8>,
}

#[derive(Debug, Clone, Default)]
struct Trak {
    id: u32,
    handler: [u8; 4],
    media_timescale: u32,
    edits: Vec<Edit>,
    chapter_refs: Vec<u32>,
    entry: Option<SampleEntry>,
    /// Sum of `stts` sample counts and of count × delta.
    stts_samples: u64,
    stts_total: u64,
    first_delta: u32,
    last_delta: u32,
    /// `stsz` sample count.
    stsz_count: u64,
    /// Offset of the last chunk (stco/co64), to catch a cut `mdat`.
    last_chunk_offset: Option<u64>,
    co64: bool,
}

/// Apple's gapless tag: `" 00000000 DDDDDDDD PPPPPPPP LLLLLLLLLLLLLLLL …"` in hex.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ITunSmpb {
    delay: u64,
    padding: u64,
    length: u64,
}

fn parse_itunsmpb(text: &str) -> Option<ITunSmpb> {
    let mut f = text.split_whitespace();
    let _zero = f.next()?;
    let delay = u64::from_str_radix(f.next()?, 16).ok()?;
    let padding = u64::from_str_radix(f.next()?, 16).ok()?;
    let length = u64::from_str_radix(f.next()?, 16).ok()?;
    Some(ITunSmpb {
        delay,
        padding,
        length,
    })
}

struct Ctx<'a, R> {
    src: &'a mut Source<R>,
    name: &'a str,
    warnings: Vec<String>,
}

impl<R: Read + Seek> Ctx<'_, R> {
    fn err(&self, e: BoxError) -> ProbeError {
        match e {
            BoxError::Io(e) => ProbeError::io(self.name, e),
            BoxError::Bad { at, detail } => {
                ProbeError::invalid(self.name, "mp4", format!("{detail} (offset {at})"))
            }
        }
    }

    fn io(&self, e: std::io::Error) -> ProbeError {
        ProbeError::io(self.name, e)
    }

    fn kids(&mut self, parent: &BoxHeader, skip: u64) -> Result<Vec<BoxHeader>, ProbeError> {
        let kids =
            children(self.src, parent.body() + skip, parent.end()).map_err(|e| self.err(e))?;
        if let Some(last) = kids.last() {
            if last.end() > parent.end() {
                return Err(ProbeError::invalid(
                    self.name,
                    "mp4",
                    format!(
                        "box '{}' at offset {} runs past the end of its parent '{}'",
                        last.name(),
                        last.start,
                        parent.name()
                    ),
                ));
            }
        }
        Ok(kids)
    }

    fn u32(&mut self, pos: u64) -> Result<u32, ProbeError> {
        u32_at(self.src, pos)
            .map_err(|e| self.io(e))?
            .ok_or_else(|| ProbeError::truncated(self.name, "mp4", "a box is cut"))
    }

    fn u64(&mut self, pos: u64) -> Result<u64, ProbeError> {
        u64_at(self.src, pos)
            .map_err(|e| self.io(e))?
            .ok_or_else(|| ProbeError::truncated(self.name, "mp4", "a box is cut"))
    }

    fn u16(&mut self, pos: u64) -> Result<u16, ProbeError> {
        u16_at(self.src, pos)
            .map_err(|e| self.io(e))?
            .ok_or_else(|| ProbeError::truncated(self.name, "mp4", "a box is cut"))
    }

    fn version(&mut self, b: &BoxHeader) -> Result<u8, ProbeError> {
        Ok((self.u32(b.body())? >> 24) as u8)
    }
}

/// Everything found in `moov`.
#[derive(Default)]
struct Movie {
    timescale: u32,
    traks: Vec<Trak>,
    nero_chapters: Option<usize>,
    itunsmpb: Option<ITunSmpb>,
    fragmented: bool,
}

/// Measures an MP4 file whose boxes start at `start`.
pub(crate) fn probe<R: Read + Seek>(
    src: &mut Source<R>,
    name: &str,
    start: u64,
) -> Result<ProbeInfo, ProbeError> {
    let len = src.len();
    let mut cx = Ctx {
        src,
        name,
        warnings: Vec::new(),
    };
    let (moov, mdat_bytes, fragmented) = top_level(&mut cx, start, len)?;
    let Some(moov) = moov else {
        return Err(ProbeError::truncated(
            name,
            "mp4",
            "there is no moov box (the file is cut, or still being written)",
        ));
    };
    let movie = read_moov(&mut cx, &moov)?;
    if fragmented || movie.fragmented {
        return Err(ProbeError::unsupported(name, "fragmented mp4"));
    }
    let Some(audio) = movie.traks.iter().find(|t| &t.handler == b"soun") else {
        return Err(ProbeError::invalid(name, "mp4", "no audio track"));
    };
    let audio = audio.clone();
    let quicktime = movie
        .traks
        .iter()
        .filter(|t| audio.chapter_refs.contains(&t.id) && is_chapter_handler(&t.handler))
        .map(|t| usize::try_from(t.stsz_count.max(t.stts_samples)).unwrap_or(usize::MAX))
        .fold(0usize, usize::saturating_add);
    if let Some(off) = audio.last_chunk_offset {
        if off >= len {
            return Err(ProbeError::truncated(
                name,
                "mp4",
                format!("audio data at offset {off} is past the end of the file ({len} bytes)"),
            ));
        }
    }
    let (playable, method, delay, padding) = length(&mut cx, &movie, &audio)?;
    let entry = audio.entry.clone().unwrap_or_default();
    let (sample_rate, samples) = to_sample_rate(&mut cx, &entry, audio.media_timescale, playable);
    if audio.co64 {
        log::debug!("{name}: 64-bit chunk offsets (co64)");
    }
    Ok(ProbeInfo {
        container: Container::Mp4,
        codec: codec_name(&entry),
        sample_rate,
        channels: entry.channels,
        duration: SampleTime::new(samples, sample_rate),
        method,
        encoder_delay: delay,
        encoder_padding: padding,
        frames: Some(audio.stsz_count),
        file_size: len,
        audio_bytes: Some(mdat_bytes),
        bitrate: None,
        tags: TagSummary {
            id3: None,
            ape: false,
            id3v1: false,
            mp4_chapters: Some(Mp4Chapters {
                nero: movie.nero_chapters.unwrap_or(0),
                quicktime,
            }),
            vorbis: None,
        },
        mp3: None,
        warnings: cx.warnings,
    })
}

/// The top level: the first `moov`, the `mdat` payload bytes and whether the file is
/// fragmented, checking that no box is cut.
fn top_level<R: Read + Seek>(
    cx: &mut Ctx<'_, R>,
    start: u64,
    len: u64,
) -> Result<(Option<BoxHeader>, u64, bool), ProbeError> {
    let mut pos = start;
    let mut moov = None;
    let mut mdat_bytes = 0u64;
    let mut fragmented = false;
    let mut count = 0;
    while let Some(b) = header_at(cx.src, pos, len).map_err(|e| cx.err(e))? {
        count += 1;
        if count > 100_000 {
            return Err(ProbeError::invalid(
                cx.name,
                "mp4",
                "too many top-level boxes",
            ));
        }
        if b.end() > len {
            let missing = b.end() - len;
            return Err(match &b.kind {
                b"mdat" => ProbeError::truncated(
                    cx.name,
                    "mp4",
                    format!("the mdat box is {missing} bytes short of its declared size"),
                ),
                b"moov" => ProbeError::truncated(
                    cx.name,
                    "mp4",
                    format!("the moov box is {missing} bytes short of its declared size"),
                ),
                _ if moov.is_some() => {
                    cx.warnings.push(format!(
                        "the trailing '{}' box is cut ({missing} bytes missing)",
                        b.name()
                    ));
                    break;
                }
                _ => ProbeError::truncated(
                    cx.name,
                    "mp4",
                    format!("box '{}' is {missing} bytes short", b.name()),
                ),
            });
        }
        match &b.kind {
            b"moov" if moov.is_none() => moov = Some(b),
            b"mdat" => mdat_bytes += b.size - b.header_len,
            b"moof" => fragmented = true,
            _ => {}
        }
        pos = b.end();
    }
    if pos < len && len - pos < 8 {
        cx.warnings
            .push(format!("{} stray bytes at the end of the file", len - pos));
    }
    Ok((moov, mdat_bytes, fragmented))
}

/// Converts a length in the media timescale `ts` to samples at the entry's sample rate.
fn to_sample_rate<R: Read + Seek>(
    cx: &mut Ctx<'_, R>,
    entry: &SampleEntry,
    ts: u32,
    playable: u64,
) -> (u32, u64) {
    // Durations are in the media timescale, which is the sample rate in every audio file we
    // know; if not, convert (and say so unless it divides exactly).
    if entry.sample_rate == 0 || entry.sample_rate == ts {
        (ts, playable)
    } else {
        let num = u128::from(playable) * u128::from(entry.sample_rate);
        if num % u128::from(ts) != 0 {
            cx.warnings.push(format!(
                "the media timescale ({ts}) differs from the sample rate ({}); the length was rounded to a sample",
                entry.sample_rate
            ));
        }
        let s = (num + u128::from(ts) / 2) / u128::from(ts);
        (entry.sample_rate, u64::try_from(s).unwrap_or(u64::MAX))
    }
}

fn codec_name(e: &SampleEntry) -> String {
    match &e.kind {
        b"mp4a" => match (e.object_type, e.aac_aot) {
            (Some(0x69 | 0x6B), _) => "mp3".to_string(),
            (_, Some(5)) => "he-aac".to_string(),
            (_, Some(29)) => "he-aacv2".to_string(),
            _ => "aac".to_string(),
        },
        b"alac" => "alac".to_string(),
        b"fLaC" => "flac".to_string(),
        b"Opus" => "opus".to_string(),
        b"ac-3" => "ac3".to_string(),
        b"ec-3" => "eac3".to_string(),
        b".mp3" => "mp3".to_string(),
        other => String::from_utf8_lossy(other).trim().to_lowercase(),
    }
}

/// The playable length in media timescale units, with the method, delay and padding.
fn length<R: Read + Seek>(
    cx: &mut Ctx<'_, R>,
    movie: &Movie,
    t: &Trak,
) -> Result<(u64, Method, u64, u64), ProbeError> {
    if t.media_timescale == 0 {
        return Err(ProbeError::invalid(
            cx.name,
            "mp4",
            "the audio track's timescale is 0",
        ));
    }
    let total = t.stts_total;
    if t.stts_samples == 0 {
        cx.warnings
            .push("the audio track has no samples".to_string());
    }
    // Samples a decoder produces but the sample table already shortened (the last AAC frame
    // decodes to 1024 samples even when stts says 675).
    // Only for codecs with fixed-size frames (AAC, MP3 in MP4); ALAC's last frame is short.
    let fixed_frames = t.entry.as_ref().is_some_and(|e| &e.kind == b"mp4a");
    let stts_tail_trim = if fixed_frames && t.stts_samples > 1 && t.last_delta < t.first_delta {
        u64::from(t.first_delta - t.last_delta)
    } else {
        0
    };
    let (elst_len, elst_delay, trivial) = edit_list_length(cx, movie, t)?;
    let smpb = movie.itunsmpb;
    let smpb_len = smpb.map(|s| {
        if s.length > 0 {
            s.length
        } else {
            let decoded = total + stts_tail_trim;
            decoded.saturating_sub(s.delay).saturating_sub(s.padding)
        }
    });
    match (elst_len, smpb_len) {
        (Some(l), _) if !trivial => {
            if let Some(sl) = smpb_len {
                if sl != l {
                    cx.warnings.push(format!(
                        "itunsmpb says {sl} samples but the edit list {l}; the edit list is used"
                    ));
                }
            }
            let padding = total.saturating_sub(elst_delay).saturating_sub(l) + stts_tail_trim;
            Ok((l, Method::Elst, elst_delay, padding))
        }
        (_, Some(l)) => {
            let s = smpb.unwrap_or(ITunSmpb {
                delay: 0,
                padding: 0,
                length: 0,
            });
            if l > total {
                cx.warnings.push(format!(
                    "itunsmpb says {l} samples but the track holds only {total}"
                ));
            }
            Ok((l.min(total), Method::ITunSmpb, s.delay, s.padding))
        }
        _ => Ok((total, Method::Stts, 0, stts_tail_trim)),
    }
}

/// The length the edit list presents (`None` without one), the media time of its first
/// edit (the encoder delay) and whether it is trivial (one edit over the whole media).
fn edit_list_length<R: Read + Seek>(
    cx: &mut Ctx<'_, R>,
    movie: &Movie,
    t: &Trak,
) -> Result<(Option<u64>, u64, bool), ProbeError> {
    let total = t.stts_total;
    let normal: Vec<Edit> = t
        .edits
        .iter()
        .copied()
        .filter(|e| e.media_time >= 0)
        .collect();
    let gaps: u64 = t
        .edits
        .iter()
        .filter(|e| e.media_time < 0)
        .map(|e| e.segment_duration)
        .fold(0u64, u64::saturating_add);
    if gaps > 0 {
        cx.warnings.push(format!(
            "the edit list starts with {gaps} movie-timescale units of silence (an empty edit); it is not counted"
        ));
    }
    let mut elst_delay = 0;
    let mut trivial = true;
    if normal.is_empty() {
        return Ok((None, elst_delay, trivial));
    }
    if movie.timescale == 0 {
        return Err(ProbeError::invalid(
            cx.name,
            "mp4",
            "the movie timescale is 0",
        ));
    }
    let mts = u128::from(movie.timescale);
    let media_ts = u128::from(t.media_timescale);
    let mut sum = 0u64;
    for (i, e) in normal.iter().enumerate() {
        let media_time = e.media_time as u64;
        let avail = total.saturating_sub(media_time);
        let seg_scaled = u128::from(e.segment_duration) * media_ts; // media units × mts
        let avail_scaled = u128::from(avail) * mts;
        let len = if e.segment_duration == 0 && normal.len() == 1 {
            avail
        } else if seg_scaled.abs_diff(avail_scaled) < media_ts {
            // Within one movie tick of the end of the media: "to the end", exactly.
            avail
        } else {
            if seg_scaled % mts != 0 {
                cx.warnings.push(format!(
                    "edit {} ends inside the media at a movie-timescale ({}) boundary; its length is rounded to a sample",
                    i + 1,
                    movie.timescale
                ));
            }
            let l = (seg_scaled + mts / 2) / mts;
            u64::try_from(l).unwrap_or(u64::MAX).min(avail)
        };
        if i == 0 {
            elst_delay = media_time;
        }
        if i > 0 || media_time != 0 || len != total {
            trivial = false;
        }
        sum = sum.saturating_add(len);
    }
    if normal.len() > 1 {
        cx.warnings.push(format!(
            "the edit list has {} edits; their lengths are summed",
            normal.len()
        ));
    }
    Ok((Some(sum), elst_delay, trivial))
}

fn read_moov<R: Read + Seek>(cx: &mut Ctx<'_, R>, moov: &BoxHeader) -> Result<Movie, ProbeError> {
    let mut m = Movie::default();
    for b in cx.kids(moov, 0)? {
        match &b.kind {
            b"mvhd" => {
                let v = cx.version(&b)?;
                m.timescale = cx.u32(b.body() + if v == 1 { 20 } else { 12 })?;
            }
            b"mvex" => m.fragmented = true,
            b"trak" => m.traks.push(read_trak(cx, &b)?),
            b"udta" => read_udta(cx, &b, &mut m)?,
            b"meta" => read_meta(cx, &b, &mut m)?,
            _ => {}
        }
    }
    Ok(m)
}

fn read_udta<R: Read + Seek>(
    cx: &mut Ctx<'_, R>,
    udta: &BoxHeader,
    m: &mut Movie,
) -> Result<(), ProbeError> {
    for b in cx.kids(udta, 0)? {
        match &b.kind {
            b"chpl" => m.nero_chapters = Some(count_chpl(cx, &b)?),
            b"meta" => read_meta(cx, &b, m)?,
            _ => {}
        }
    }
    Ok(())
}

/// Counts Nero chapters by walking the entries (the u8 count wraps past 255).
fn count_chpl<R: Read + Seek>(cx: &mut Ctx<'_, R>, b: &BoxHeader) -> Result<usize, ProbeError> {
    let v = cx.version(b)?;
    let count_at = b.body() + if v == 1 { 8 } else { 4 };
    let stated = usize::from(
        cx.src
            .bytes::<1>(count_at)
            .map_err(|e| cx.io(e))?
            .map_or(0, |x| x[0]),
    );
    let mut pos = count_at + 1;
    let mut walked = 0usize;
    while pos + 9 <= b.end() {
        let Some([title_len]) = cx.src.bytes::<1>(pos + 8).map_err(|e| cx.io(e))? else {
            break;
        };
        let next = pos + 9 + u64::from(title_len);
        if next > b.end() {
            break;
        }
        walked += 1;
        pos = next;
    }
    if walked != stated {
        cx.warnings.push(format!(
            "the nero chapter list states {stated} chapters but holds {walked}"
        ));
    }
    Ok(walked)
}

/// `meta` is a full box in MP4 but a plain container in QuickTime files.
fn read_meta<R: Read + Seek>(
    cx: &mut Ctx<'_, R>,
    meta: &BoxHeader,
    m: &mut Movie,
) -> Result<(), ProbeError> {
    let qt_style = cx.src.bytes::<4>(meta.body() + 4).map_err(|e| cx.io(e))? == Some(*b"hdlr");
    let skip = if qt_style { 0 } else { 4 };
    for b in cx.kids(meta, skip)? {
        if &b.kind == b"ilst" {
            for item in cx.kids(&b, 0)? {
                if &item.kind == b"----" {
                    if let Some(s) = freeform_itunsmpb(cx, &item)? {
                        m.itunsmpb = parse_itunsmpb(&s);
                        if m.itunsmpb.is_none() {
                            cx.warnings
                                .push(format!("unreadable itunsmpb value {s:?}; ignored"));
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

/// The text of a `----` item if its name is `iTunSMPB`.
fn freeform_itunsmpb<R: Read + Seek>(
    cx: &mut Ctx<'_, R>,
    item: &BoxHeader,
) -> Result<Option<String>, ProbeError> {
    let mut is_smpb = false;
    let mut text = None;
    for b in cx.kids(item, 0)? {
        match &b.kind {
            b"name" => {
                let body = small_body(cx.src, b.body() + 4, b.end(), 64).map_err(|e| cx.io(e))?;
                is_smpb = body == b"iTunSMPB";
            }
            b"data" => {
                // type (4) + locale (4), then the value.
                let body = small_body(cx.src, b.body() + 8, b.end(), 512).map_err(|e| cx.io(e))?;
                text = Some(String::from_utf8_lossy(&body).into_owned());
            }
            _ => {}
        }
    }
    Ok(if is_smpb { text } else { None })
}

fn read_trak<R: Read + Seek>(cx: &mut Ctx<'_, R>, trak: &BoxHeader) -> Result<Trak, ProbeError> {
    let mut t = Trak::default();
    for b in cx.kids(trak, 0)? {
        match &b.kind {
            b"tkhd" => {
                let v = cx.version(&b)?;
                t.id = cx.u32(b.body() + if v == 1 { 20 } else { 12 })?;
            }
            b"tref" => {
                for r in cx.kids(&b, 0)? {
                    if &r.kind == b"chap" {
                        let mut p = r.body();
                        while p + 4 <= r.end() && t.chapter_refs.len() < 64 {
                            t.chapter_refs.push(cx.u32(p)?);
                            p += 4;
                        }
                    }
                }
            }
            b"edts" => {
                for e in cx.kids(&b, 0)? {
                    if &e.kind == b"elst" {
                        t.edits = read_elst(cx, &e)?;
                    }
                }
            }
            b"mdia" => read_mdia(cx, &b, &mut t)?,
            _ => {}
        }
    }
    Ok(t)
}

fn read_elst<R: Read + Seek>(cx: &mut Ctx<'_, R>, b: &BoxHeader) -> Result<Vec<Edit>, ProbeError> {
    let v = cx.version(b)?;
    let n = cx.u32(b.body() + 4)?;
    let entry_len: u64 = if v == 1 { 20 } else { 12 };
    let mut out = Vec::new();
    let mut p = b.body() + 8;
    for _ in 0..n {
        if p + entry_len > b.end() || out.len() >= 1024 {
            break;
        }
        let e = if v == 1 {
            Edit {
                segment_duration: cx.u64(p)?,
                media_time: cx.u64(p + 8)? as i64,
            }
        } else {
            Edit {
                segment_duration: u64::from(cx.u32(p)?),
                media_time: i64::from(cx.u32(p + 4)? as i32),
            }
        };
        out.push(e);
        p += entry_len;
    }
    Ok(out)
}

fn read_mdia<R: Read + Seek>(
    cx: &mut Ctx<'_, R>,
    mdia: &BoxHeader,
    t: &mut Trak,
) -> Result<(), ProbeError> {
    for b in cx.kids(mdia, 0)? {
        match &b.kind {
            b"mdhd" => {
                let v = cx.version(&b)?;
                t.media_timescale = cx.u32(b.body() + if v == 1 { 20 } else { 12 })?;
            }
            b"hdlr" => {
                if let Some(h) = cx.src.bytes::<4>(b.body() + 8).map_err(|e| cx.io(e))? {
                    t.handler = h;
                }
            }
            b"minf" => {
                for s in cx.kids(&b, 0)? {
                    if &s.kind == b"stbl" {
                        read_stbl(cx, &s, t)?;
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn read_stbl<R: Read + Seek>(
    cx: &mut Ctx<'_, R>,
    stbl: &BoxHeader,
    t: &mut Trak,
) -> Result<(), ProbeError> {
    for b in cx.kids(stbl, 0)? {
        match &b.kind {
            b"stsd" => t.entry = read_stsd(cx, &b)?,
            b"stts" => read_stts(cx, &b, t)?,
            b"stsz" => t.stsz_count = u64::from(cx.u32(b.body() + 8)?),
            b"stz2" => t.stsz_count = u64::from(cx.u32(b.body() + 8)?),
            b"stco" | b"co64" => {
                let wide = &b.kind == b"co64";
                t.co64 = wide;
                let n = u64::from(cx.u32(b.body() + 4)?);
                let size = if wide { 8 } else { 4 };
                let last = b.body() + 8 + n.saturating_sub(1) * size;
                if n > 0 && last + size <= b.end() {
                    t.last_chunk_offset = Some(if wide {
                        cx.u64(last)?
                    } else {
                        u64::from(cx.u32(last)?)
                    });
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Sums `stts` in one streamed pass (8 bytes per entry, read through the shared buffer).
fn read_stts<R: Read + Seek>(
    cx: &mut Ctx<'_, R>,
    b: &BoxHeader,
    t: &mut Trak,
) -> Result<(), ProbeError> {
    let n = u64::from(cx.u32(b.body() + 4)?);
    let first = b.body() + 8;
    let fits = (b.end().saturating_sub(first)) / 8;
    if n > fits {
        cx.warnings.push(format!(
            "stts declares {n} entries but has room for {fits}; the rest are ignored"
        ));
    }
    let n = n.min(fits);
    let mut p = first;
    let end = first + n * 8;
    while p < end {
        let chunk = usize::try_from((end - p).min(32 * 1024)).unwrap_or(32 * 1024);
        let w = cx
            .src
            .window(p, chunk)
            .map_err(|e| ProbeError::io(cx.name, e))?;
        if w.len() < 8 {
            return Err(ProbeError::truncated(cx.name, "mp4", "the stts box is cut"));
        }
        let whole = w.len() / 8 * 8;
        for e in w[..whole].chunks_exact(8) {
            let count = u64::from(u32::from_be_bytes([e[0], e[1], e[2], e[3]]));
            let delta = u32::from_be_bytes([e[4], e[5], e[6], e[7]]);
            if count == 0 {
                continue;
            }
            if t.stts_samples == 0 {
                t.first_delta = delta;
            }
            t.last_delta = delta;
            t.stts_samples = t.stts_samples.saturating_add(count);
            t.stts_total = t
                .stts_total
                .saturating_add(count.saturating_mul(u64::from(delta)));
        }
        p += whole as u64;
    }
    Ok(())
}

fn read_stsd<R: Read + Seek>(
    cx: &mut Ctx<'_, R>,
    b: &BoxHeader,
) -> Result<Option<SampleEntry>, ProbeError> {
    // Full box header (4) + entry count (4), then the first entry as a box.
    let kids = cx.kids(b, 8)?;
    let Some(e) = kids.first() else {
        return Ok(None);
    };
    let mut entry = SampleEntry {
        kind: e.kind,
        ..SampleEntry::default()
    };
    // Audio sample entry: 6 reserved + 2 data ref index, then the sound description.
    let sd = e.body() + 8;
    let qt_version = cx.u16(sd)?;
    entry.channels = cx.u16(sd + 8)?;
    entry.sample_rate = cx.u32(sd + 16)? >> 16;
    let ext = match qt_version {
        1 => 16,
        2 => 36,
        _ => 0,
    };
    if qt_version == 2 {
        // QuickTime v2: f64 rate and u32 channel count after the fixed part.
        let rate = f64::from_bits(cx.u64(sd + 20 + 4)?);
        entry.channels = u16::try_from(cx.u32(sd + 20 + 12)?).unwrap_or(0);
        entry.sample_rate = if rate.is_finite() && rate > 0.0 && rate < 1e7 {
            rate as u32
        } else {
            0
        };
    }
    let children_start = sd + 20 + ext;
    if children_start < e.end() {
        let inner = BoxHeader {
            kind: e.kind,
            start: children_start,
            header_len: 0,
            size: e.end() - children_start,
        };
        if let Ok(kids) = children(cx.src, inner.body(), inner.end()) {
            if let Some(esds) = kids
                .iter()
                .find(|k| &k.kind == b"esds" && k.end() <= e.end())
            {
                let body =
                    small_body(cx.src, esds.body() + 4, esds.end(), 256).map_err(|e| cx.io(e))?;
                let esds = parse_esds(&body);
                entry.object_type = esds.object_type;
                if let Some(asc) = esds.asc {
                    entry.aac_aot = Some(asc.aot);
                    // MP4 writers put a fixed 2 in the sample entry's channel field; the
                    // AudioSpecificConfig has the real count (7 means 7.1, 8 channels).
                    match asc.channel_config {
                        1..=6 => entry.channels = u16::from(asc.channel_config),
                        7 => entry.channels = 8,
                        _ => {}
                    }
                }
            }
        }
    }
    Ok(Some(entry))
}

/// What an `esds` descriptor chain tells: object type indication and, for AAC, the
/// AudioSpecificConfig.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Esds {
    object_type: Option<u8>,
    asc: Option<Asc>,
}

/// The start of an AAC AudioSpecificConfig.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Asc {
    /// Audio object type (2 LC, 5 SBR, 29 PS).
    aot: u8,
    /// Core sampling rate.
    sample_rate: u32,
    /// Channel configuration (0 = defined in a program config element).
    channel_config: u8,
}

fn parse_asc(b: &[u8]) -> Option<Asc> {
    const RATES: [u32; 13] = [
        96_000, 88_200, 64_000, 48_000, 44_100, 32_000, 24_000, 22_050, 16_000, 12_000, 11_025,
        8_000, 7_350,
    ];
    let mut bits = 0u64;
    for (i, &x) in b.iter().take(8).enumerate() {
        bits |= u64::from(x) << (56 - 8 * i);
    }
    let avail = b.len().min(8) * 8;
    let mut at = 0usize;
    let mut take = |n: usize| -> Option<u32> {
        if at + n > avail {
            return None;
        }
        let v = (bits << at) >> (64 - n);
        at += n;
        Some(v as u32)
    };
    let mut aot = take(5)?;
    if aot == 31 {
        aot = 32 + take(6)?;
    }
    let idx = take(4)?;
    let sample_rate = if idx == 15 {
        take(24)?
    } else {
        *RATES.get(idx as usize)?
    };
    let channel_config = take(4)? as u8;
    Some(Asc {
        aot: u8::try_from(aot).ok()?,
        sample_rate,
        channel_config,
    })
}

/// Parses an `esds` body (after its version/flags).
fn parse_esds(b: &[u8]) -> Esds {
    // Descriptor: tag, length (1–4 bytes of 7 bits), payload.
    fn desc(b: &[u8], at: usize) -> Option<(u8, usize, usize)> {
        let tag = *b.get(at)?;
        let mut len = 0usize;
        let mut p = at + 1;
        for _ in 0..4 {
            let x = *b.get(p)?;
            p += 1;
            len = (len << 7) | usize::from(x & 0x7F);
            if x & 0x80 == 0 {
                break;
            }
        }
        Some((tag, p, len))
    }
    let mut out = Esds::default();
    let Some((0x03, p, _)) = desc(b, 0) else {
        return out;
    };
    // ES_ID (2) + flags (1), optional fields by flag.
    let Some(&flags) = b.get(p + 2) else {
        return out;
    };
    let mut q = p + 3;
    if flags & 0x80 != 0 {
        q += 2;
    }
    if flags & 0x40 != 0 {
        q += 1 + usize::from(*b.get(q).unwrap_or(&0));
    }
    if flags & 0x20 != 0 {
        q += 2;
    }
    if let Some((0x04, p4, _)) = desc(b, q) {
        out.object_type = b.get(p4).copied();
        if let Some((0x05, p5, len5)) = desc(b, p4 + 13) {
            let end = p5.saturating_add(len5).min(b.len());
            out.asc = b.get(p5..end).and_then(parse_asc);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn itunsmpb_fields() {
        let s = " 00000000 00000840 000001CA 00000000003F1D76 00000000 00000000";
        assert_eq!(
            parse_itunsmpb(s),
            Some(ITunSmpb {
                delay: 0x840,
                padding: 0x1CA,
                length: 0x3F1D76
            })
        );
        assert_eq!(parse_itunsmpb("garbage"), None);
    }

    #[test]
    fn esds_of_ffmpeg_aac_lc() {
        // ES_Descriptor → DecoderConfigDescriptor (0x40) → DecoderSpecificInfo 0x1210, as
        // ffmpeg writes it (4-byte descriptor lengths), taken from aac-faststart.m4a.
        let b = [
            0x03, 0x80, 0x80, 0x80, 0x25, 0x00, 0x01, 0x00, 0x04, 0x80, 0x80, 0x80, 0x17, 0x40,
            0x15, 0x00, 0x00, 0x00, 0x00, 0x00, 0xfc, 0xa5, 0x00, 0x00, 0xfc, 0xa5, 0x05, 0x80,
            0x80, 0x80, 0x05, 0x12, 0x10, 0x56, 0xe5, 0x00, 0x06, 0x80, 0x80, 0x80,
        ];
        let e = parse_esds(&b);
        assert_eq!(e.object_type, Some(0x40));
        assert_eq!(
            e.asc,
            Some(Asc {
                aot: 2,
                sample_rate: 44_100,
                channel_config: 2
            })
        );
        assert_eq!(parse_esds(&b[..5]), Esds::default());
        // Explicit 24-bit rate (index 15) and an escaped object type.
        assert_eq!(parse_asc(&[0xF8, 0x00]), None);
    }
}
