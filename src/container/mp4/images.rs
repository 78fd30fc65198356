//! The QuickTime chapter-image track: a disabled `vide` track of JPEG/PNG samples, one per
//! chapter with the chapter track's times, referenced from `tref/chap` next to the text
//! chapter track (Apple's layout; the `covr` cover in `ilst` stays the file's artwork).
//!
//! All images of a track are of one type (one `jpeg` or `png ` sample entry: ffmpeg decodes
//! every sample with the codec of one entry). Each sample is its own chunk, so the gap
//! sample before a late first chapter can share the first image's bytes; the chunks follow
//! the text samples wherever those go (the chapter `mdat`, or the start of the audio `mdat`
//! in a faststart file), and the track has the text track's edit list.

use super::boxes::{self, FourCc, Node};
use super::plan::{chapter_mdhd, chapter_tkhd};
use crate::chapter::ChapterList;
use crate::image::{PNG, inspect};
use std::sync::Arc;

/// The samples of the image track.
pub(super) struct ImageSpec {
    /// Per chapter: the image bytes and its sample-entry index (1-based).
    pub samples: Vec<(Arc<[u8]>, u32)>,
    /// The text track starts with an untitled gap sample: the image track starts with a
    /// sample that shares the first chapter's bytes (its chunk offset), stored once.
    pub gap: bool,
    /// Per sample, in milliseconds; the same as the text track's.
    pub durations: Vec<u32>,
    /// The sample entries used: (`jpeg`/`png `, width, height).
    pub entries: Vec<(FourCc, u16, u16)>,
}

impl ImageSpec {
    /// Bytes of all samples.
    pub fn data_len(&self) -> u64 {
        self.samples.iter().map(|(s, _)| s.len() as u64).sum()
    }

    /// The samples as stored: the first twice when there is a gap sample.
    fn stored(&self) -> impl Iterator<Item = &(Arc<[u8]>, u32)> {
        self.samples
            .iter()
            .take(usize::from(self.gap))
            .chain(&self.samples)
    }
}

/// The image track for `list`, given the text track's per-sample `durations` (with the
/// untitled gap sample first when `gap`). Only when every chapter has an image of the same
/// type: a chapter without one would need an image the user never gave. The gap before a late first
/// chapter shows the first chapter's image.
pub(super) fn image_spec(list: &ChapterList, durations: &[u32], gap: bool) -> Option<ImageSpec> {
    // `as_stored` has already dropped images that cannot be stored, and said why.
    storable(list).ok()?;
    let pictures: Vec<_> = list.chapters.iter().map(|c| c.picture.as_ref()).collect();
    let mut entries: Vec<(FourCc, u16, u16)> = Vec::new();
    let mut samples = Vec::with_capacity(durations.len());
    for pic in pictures.into_iter().flatten() {
        let info = inspect(&pic.data);
        let kind: FourCc = if info.mime == Some(PNG) {
            *b"png "
        } else {
            *b"jpeg"
        };
        let (w, h) = info.size.unwrap_or((0, 0));
        let dims = (clamp16(w), clamp16(h));
        if entries.is_empty() {
            entries.push((kind, dims.0, dims.1));
        }
        samples.push((Arc::clone(&pic.data), 1));
    }
    Some(ImageSpec {
        samples,
        gap,
        durations: durations.to_vec(),
        entries,
    })
}

/// Whether the chapter images of `list` fit one image track: every chapter has one, all of
/// one type (ffmpeg decodes every sample of a track with the codec of one sample entry).
/// `Err(None)` when there are no images, `Err(Some(reason))` when they cannot be stored.
pub fn storable(list: &ChapterList) -> Result<(), Option<&'static str>> {
    let mut kinds = list
        .chapters
        .iter()
        .map(|c| c.picture.as_ref().map(|p| p.mime.as_str()));
    let first = kinds.next().flatten();
    if list.chapters.iter().all(|c| c.picture.is_none()) {
        return Err(None);
    }
    let Some(first) = first else {
        return Err(Some(
            "chapter images are stored only when every chapter has one",
        ));
    };
    for k in kinds {
        match k {
            None => {
                return Err(Some(
                    "chapter images are stored only when every chapter has one",
                ));
            }
            Some(k) if k != first => {
                return Err(Some(
                    "chapter images mix jpeg and png; one chapter-image track holds one type",
                ));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

fn clamp16(v: usize) -> u16 {
    u16::try_from(v).unwrap_or(u16::MAX)
}

/// Builds the image `trak` with its first sample at `offset` in the file and the text
/// track's edit list `edts`.
pub(super) fn image_trak(
    id: u32,
    track_dur: u64,
    edts: Node,
    spec: &ImageSpec,
    offset: u64,
    co64: bool,
) -> Node {
    let media_dur: u64 = spec.durations.iter().map(|&d| u64::from(d)).sum();
    let (w, h) = spec.entries.first().map_or((0, 0), |e| (e.1, e.2));
    let tkhd = image_tkhd(id, track_dur, w, h);
    let mut p = vec![0; 8];
    p.extend_from_slice(b"vide");
    p.extend_from_slice(&[0; 12]);
    p.extend_from_slice(b"Chapter images\0");
    let hdlr = Node::leaf(b"hdlr", &p);
    let vmhd = Node::leaf(b"vmhd", &[0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
    let mut p = vec![0, 0, 0, 0, 0, 0, 0, 1];
    p.extend_from_slice(&Node::leaf(b"url ", &[0, 0, 0, 1]).to_bytes());
    let dinf = Node::container(b"dinf", vec![Node::leaf(b"dref", &p)]);
    let stbl = image_stbl(spec, offset, co64);
    let minf = Node::container(b"minf", vec![vmhd, dinf, stbl]);
    let mdia = Node::container(b"mdia", vec![chapter_mdhd(media_dur), hdlr, minf]);
    Node::container(b"trak", vec![tkhd, edts, mdia])
}

/// The chapter track's `tkhd` (flags 0: disabled, so a player never shows it as the movie's
/// video) with the first image's size in its last eight bytes (16.16 width and height).
fn image_tkhd(id: u32, track_dur: u64, w: u16, h: u16) -> Node {
    let mut p = chapter_tkhd(id, track_dur).payload().to_vec();
    let at = p.len().saturating_sub(8);
    if let Some(dims) = p.get_mut(at..) {
        dims[..4].copy_from_slice(&(u32::from(w) << 16).to_be_bytes());
        dims[4..].copy_from_slice(&(u32::from(h) << 16).to_be_bytes());
    }
    Node::leaf(b"tkhd", &p)
}

/// A `VisualSampleEntry` payload for still images.
fn visual_entry(w: u16, h: u16) -> Vec<u8> {
    let mut p = vec![0, 0, 0, 0, 0, 0, 0, 1]; // reserved, data reference index 1
    p.extend_from_slice(&[0; 16]); // pre-defined, reserved
    p.extend_from_slice(&w.to_be_bytes());
    p.extend_from_slice(&h.to_be_bytes());
    p.extend_from_slice(&0x0048_0000u32.to_be_bytes()); // 72 dpi
    p.extend_from_slice(&0x0048_0000u32.to_be_bytes());
    p.extend_from_slice(&[0; 4]);
    p.extend_from_slice(&1u16.to_be_bytes()); // frame count
    p.extend_from_slice(&[0; 32]); // compressor name
    p.extend_from_slice(&0x0018u16.to_be_bytes()); // depth
    p.extend_from_slice(&(-1i16).to_be_bytes());
    p
}

/// One chunk per sample: `stsc` maps each chunk to its sample entry.
fn image_stbl(spec: &ImageSpec, offset: u64, co64: bool) -> Node {
    let mut p = vec![0, 0, 0, 0];
    p.extend_from_slice(&(spec.entries.len() as u32).to_be_bytes());
    for (kind, w, h) in &spec.entries {
        p.extend_from_slice(&Node::leaf(kind, &visual_entry(*w, *h)).to_bytes());
    }
    let stsd = Node::leaf(b"stsd", &p);

    let n = spec.stored().count() as u32;
    let mut p = vec![0; 4];
    p.extend_from_slice(&n.to_be_bytes());
    for &d in &spec.durations {
        p.extend_from_slice(&1u32.to_be_bytes());
        p.extend_from_slice(&d.to_be_bytes());
    }
    let stts = Node::leaf(b"stts", &p);

    let mut runs: Vec<(u32, u32)> = Vec::new();
    for (i, (_, entry)) in spec.stored().enumerate() {
        if runs.last().is_none_or(|r| r.1 != *entry) {
            runs.push((i as u32 + 1, *entry));
        }
    }
    let mut p = vec![0; 4];
    p.extend_from_slice(&(runs.len() as u32).to_be_bytes());
    for (chunk, entry) in runs {
        p.extend_from_slice(&chunk.to_be_bytes());
        p.extend_from_slice(&1u32.to_be_bytes());
        p.extend_from_slice(&entry.to_be_bytes());
    }
    let stsc = Node::leaf(b"stsc", &p);

    let mut p = vec![0; 8];
    p.extend_from_slice(&n.to_be_bytes());
    let mut offsets = Vec::with_capacity(n as usize);
    if spec.gap {
        offsets.push(offset);
    }
    let mut at = offset;
    for (s, _) in &spec.samples {
        offsets.push(at);
        at += s.len() as u64;
    }
    for (s, _) in spec.stored() {
        p.extend_from_slice(&(s.len() as u32).to_be_bytes());
    }
    let stsz = Node::leaf(b"stsz", &p);
    let co = boxes::chunk_offset_box(&offsets, co64);
    Node::container(b"stbl", vec![stsd, stts, stsc, stsz, co])
}

#[cfg(test)]
mod tests {
    use super::super::plan::chapter_edts;
    use super::*;
    use crate::chapter::Chapter;
    use crate::image::Picture;
    use crate::time::Time;

    fn jpeg(n: u8) -> Picture {
        Picture::new(vec![0xFF, 0xD8, 0xFF, 0xE0, n, n, n], None)
    }

    fn list(pics: Vec<Option<Picture>>) -> ChapterList {
        let chapters = pics
            .into_iter()
            .enumerate()
            .map(|(i, p)| {
                let mut c = Chapter::new(Time::from_secs(10 * i as u64 + 5), format!("c{i}"));
                c.picture = p;
                c
            })
            .collect();
        ChapterList::new(chapters)
    }

    fn u32s(b: &[u8]) -> Vec<u32> {
        b.chunks_exact(4)
            .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
            .collect()
    }

    #[test]
    fn a_gap_sample_shares_the_first_image_and_times_match_the_text_track() {
        let l = list(vec![Some(jpeg(1)), Some(jpeg(2))]);
        // Text track: untitled gap of 5 s, then 10 s and 7 s.
        let spec = image_spec(&l, &[5000, 10_000, 7000], true).unwrap();
        assert_eq!(spec.data_len(), 14, "the first image is stored once");
        let trak = image_trak(
            3,
            22_000,
            chapter_edts(22_000, 5000, 1000),
            &spec,
            1000,
            false,
        );
        let stbl = trak.find(&[b"mdia", b"minf", b"stbl"]).unwrap();
        let payload = |t: &FourCc| stbl.find(&[t]).unwrap().payload().to_vec();
        // stts: 3 samples with the text track's durations.
        assert_eq!(u32s(&payload(b"stts")), [0, 3, 1, 5000, 1, 10_000, 1, 7000]);
        // stsz: per-sample sizes; stco: the gap and the first chapter share an offset.
        assert_eq!(u32s(&payload(b"stsz")), [0, 0, 3, 7, 7, 7]);
        assert_eq!(u32s(&payload(b"stco")), [0, 3, 1000, 1000, 1007]);
        assert_eq!(&payload(b"stsd")[12..16], b"jpeg");
    }

    #[test]
    fn images_are_stored_only_for_every_chapter_and_one_type() {
        assert_eq!(storable(&list(vec![None, None])), Err(None));
        assert!(storable(&list(vec![Some(jpeg(1)), None])).is_err());
        let png = Picture::new(b"\x89PNG\r\n\x1a\n".to_vec(), None);
        assert!(storable(&list(vec![Some(jpeg(1)), Some(png)])).is_err());
        assert_eq!(storable(&list(vec![Some(jpeg(1)), Some(jpeg(2))])), Ok(()));
    }
}
