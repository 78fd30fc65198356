//! Which bytes of an MP4 file a chapter write may drop, and whether its sample tables add up
//! well enough to write at all. Dropping an `mdat` is the one edit that removes bytes, so it
//! is allowed only for an `mdat` proven to hold nothing but samples of the chapter track we
//! replace; a file whose audio chunks point outside every `mdat` is refused unchanged.

use super::Mp4Error;
use super::boxes::{Node, TopBox};
use super::chapters::{self as read, Track};
use std::path::Path;

/// Fails unless every sample of the tracks we keep lies inside the payload of one top-level
/// `mdat` (where a track's sample tables cannot be read, its chunk offsets are checked
/// instead). A damaged offset would otherwise make the planner treat the `mdat` that really
/// holds the audio as someone else's, and a sample running into `moov` would be rewritten
/// with it.
pub(super) fn check_kept_samples(
    path: &Path,
    top: &[TopBox],
    moov: &Node,
    kept: &[&Track],
    kept_offsets: &[u64],
) -> Result<(), Mp4Error> {
    let mut mdats: Vec<(u64, u64)> = top
        .iter()
        .filter(|b| &b.typ == b"mdat")
        .map(|b| (b.offset.saturating_add(8), b.end()))
        .collect();
    mdats.sort_unstable();
    let inside = |start: u64, len: u64| {
        let i = mdats.partition_point(|&(s, _)| s <= start);
        i.checked_sub(1)
            .and_then(|j| mdats.get(j))
            .is_some_and(|&(_, end)| {
                start.checked_add(len).is_some_and(|e| e <= end) && start < end
            })
    };
    let outside = |what: String| {
        Mp4Error::malformed(
            path,
            "moov",
            format!("{what} lies outside every mdat; the sample tables do not add up, not writing"),
        )
    };
    let mut checked_all = true;
    for t in kept {
        let extents = moov
            .children()
            .get(t.pos)
            .and_then(|trak| read::sample_extents(path, trak, &t.path).ok());
        let Some(extents) = extents else {
            checked_all = false;
            continue;
        };
        for (i, &(off, size)) in extents.iter().enumerate() {
            if !inside(off, u64::from(size)) {
                return Err(outside(format!(
                    "sample {} of {} ({size} bytes at offset {off})",
                    i + 1,
                    t.path
                )));
            }
        }
    }
    if !checked_all {
        for &off in kept_offsets {
            if !inside(off, 0) {
                return Err(outside(format!("an audio chunk offset ({off})")));
            }
        }
    }
    Ok(())
}

/// Every sample of the old chapter tracks as `[start, end)` byte ranges, sorted and merged;
/// `None` when their sample tables cannot be read (then nothing of theirs is dropped).
pub(super) fn chapter_sample_ranges(
    path: &Path,
    moov: &Node,
    old: &[&Track],
) -> Option<Vec<(u64, u64)>> {
    let mut ranges = Vec::new();
    for t in old {
        let trak = moov.children().get(t.pos)?;
        let extents = read::sample_extents(path, trak, &t.path).ok()?;
        for (off, size) in extents {
            ranges.push((off, off.checked_add(u64::from(size))?));
        }
    }
    ranges.sort_unstable();
    let mut merged: Vec<(u64, u64)> = Vec::with_capacity(ranges.len());
    for (s, e) in ranges {
        match merged.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    Some(merged)
}

/// Whether the `mdat` `b` holds exactly samples of the old chapter tracks: one merged range
/// covers its whole payload (after its 8- or 16-byte header) and nothing past it.
pub(super) fn only_chapter_samples(b: &TopBox, ranges: &[(u64, u64)]) -> bool {
    let inside: Vec<&(u64, u64)> = ranges
        .iter()
        .filter(|&&(s, e)| e > b.offset && s < b.end())
        .collect();
    match inside.as_slice() {
        [(s, e)] => (*s == b.offset + 8 || *s == b.offset + 16) && *e == b.end(),
        _ => false,
    }
}
