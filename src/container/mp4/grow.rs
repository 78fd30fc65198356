//! Growing the `moov` region without rewriting the file.
//!
//! When the edited `moov` no longer fits its region, copying the whole file (gigabytes of
//! audio) is only the last resort. Two plans avoid it:
//!
//! - **Faststart** (`moov` near the start, the audio after it): whole 4 KiB blocks are
//!   inserted at the start of the file ([`Plan::Insert`], `FALLOC_FL_INSERT_RANGE`, which
//!   shifts the file's extents instead of copying them), everything before the audio is
//!   rewritten into the grown space (`ftyp`, the new `moov`, a `free` box absorbing the block
//!   rounding, the chapter samples), and every chunk offset behind the region moves by the
//!   inserted length. An `stco` whose offsets no longer fit 32 bits becomes a `co64`, which
//!   grows `moov` again: the length is iterated to a fixed point.
//! - **`moov` at the end**: the file grows at its end ([`Plan::Extend`]): the new `moov`
//!   (plus chapter samples and padding) is written over the old region and past the end;
//!   nothing else moves. A `moov` in the middle of the file (with data behind it that is not
//!   the audio `mdat` it heads) becomes a `free` box and the new one is appended.
//!
//! Each plan carries the equivalent rebuild as its fallback, applied where the file system
//! cannot insert, for `-o OUT`, and by the applier's own limits.

use super::Mp4Error;
use super::chapters::Loaded;
use super::plan::{Prepared, Region, assemble, free_header};
use crate::write::{Patch, Piece, Plan};
use std::path::Path;

/// Granularity of the insertion: the block size of ext4 and the usual one of XFS. The
/// applier falls back to the rebuild where the file system's block does not divide it.
pub(super) const INSERT_BLOCK: u64 = 4096;

/// Bytes before the region that an insertion rewrites (they move with the inserted space and
/// must be put back at the start): `ftyp` and little else in a faststart file. A region
/// further in is not "faststart"; growing it at the start would rewrite too much.
const MAX_PREFIX: u64 = 1 << 20;

/// What the new region holds, laid out by [`Grown::bytes`].
struct Grown {
    moov: Vec<u8>,
    mdat: Vec<u8>,
    /// Size of the `free` box between them (0: none).
    free: u64,
    /// The chapter `mdat` ends where the audio begins (faststart), so it goes last.
    tail: bool,
}

impl Grown {
    fn bytes(self) -> Vec<u8> {
        let mut data = self.moov;
        if !self.tail {
            data.extend_from_slice(&self.mdat);
        }
        if self.free > 0 {
            let h = free_header(self.free);
            let body = self.free as usize - h.len();
            data.extend_from_slice(&h);
            data.resize(data.len() + body, 0);
        }
        if self.tail {
            data.extend_from_slice(&self.mdat);
        }
        data
    }
}

/// The edited `moov` and its chapter `mdat`, as in [`assemble`]; `new_trak` is the chapter
/// track's slot and ID.
pub(super) struct Edited<'a> {
    pub(super) path: &'a Path,
    pub(super) new_trak: Option<(usize, u32)>,
    pub(super) prepared: &'a Prepared,
    pub(super) movie_ts: u32,
}

impl Edited<'_> {
    fn build(
        &self,
        ld: &Loaded,
        region: &Region,
        delta: i64,
    ) -> Result<(Vec<u8>, Vec<u8>), Mp4Error> {
        assemble(
            self.path,
            &ld.moov,
            self.new_trak,
            self.prepared,
            self.movie_ts,
            region,
            delta,
        )
    }
}

/// A plan that grows the region in place, or `None` when only a rebuild will do (the reason
/// is logged).
pub(super) fn grow(
    ed: &Edited<'_>,
    ld: &mut Loaded,
    region: &Region,
) -> Result<Option<Plan>, Mp4Error> {
    if region.end >= ld.len {
        return at_end(ed, ld, region);
    }
    // Faststart: no media data before moov, so growing at the start rewrites only `ftyp`.
    let mdat_before = ld
        .top
        .iter()
        .any(|b| &b.typ == b"mdat" && b.end() <= region.start);
    if !mdat_before && region.start <= MAX_PREFIX {
        return insert_at_start(ed, ld, region);
    }
    // Nothing behind the region needs moov next to it: move moov to the end.
    if region.tail_payload.is_none() {
        return relocate(ed, ld, region).map(Some);
    }
    log::info!(
        "{}: moov at {} heads an audio mdat behind other media data; rebuilding",
        ed.path.display(),
        region.start
    );
    Ok(None)
}

/// Faststart: insert whole blocks at the start ([`Plan::Insert`]).
fn insert_at_start(
    ed: &Edited<'_>,
    ld: &mut Loaded,
    region: &Region,
) -> Result<Option<Plan>, Mp4Error> {
    let pad = ed.prepared.padding;
    let region_len = region.end - region.start;
    let mut len = 0u64;
    let mut settled = None;
    // Each round can only grow `len` (a co64 switch grows moov), so this ends quickly.
    for _ in 0..64 {
        let delta = i64::try_from(len).map_err(|_| too_big(ed.path))?;
        let (moov, mdat) = ed.build(ld, region, delta)?;
        let content = (moov.len() + mdat.len()) as u64;
        let room = region_len + len;
        let left = room.saturating_sub(content);
        if content + pad <= room && (left == 0 || left >= 8) {
            settled = Some((moov, mdat, left));
            break;
        }
        let need = (content + pad).saturating_sub(region_len);
        let next = need.div_ceil(INSERT_BLOCK) * INSERT_BLOCK;
        // A free box cannot be 1 to 7 bytes long: one more block then.
        len = if next > len { next } else { len + INSERT_BLOCK };
    }
    let Some((moov, mdat, free)) = settled else {
        log::info!(
            "{}: chunk offsets did not settle; rebuilding",
            ed.path.display()
        );
        return Ok(None);
    };
    let data = Grown {
        moov,
        mdat,
        free,
        tail: region.tail_payload.is_some(),
    }
    .bytes();
    let prefix = super::chapters::read_range(
        &mut ld.file,
        ed.path,
        0,
        region.start as usize,
        "reading the boxes before moov",
    )?;
    let mut head = prefix;
    head.extend_from_slice(&data);
    log::debug!(
        "{}: inserting {len} bytes at the start; moov region {}..{} rewritten",
        ed.path.display(),
        region.start,
        region.end
    );
    Ok(Some(Plan::Insert {
        len,
        patches: vec![Patch {
            offset: 0,
            data: head,
        }],
        fallback: super::plan::around_region(region, ld.len, [data, Vec::new(), Vec::new()]),
    }))
}

/// `moov` (and what it absorbs) ends the file: write the new one over it and past the end.
fn at_end(ed: &Edited<'_>, ld: &Loaded, region: &Region) -> Result<Option<Plan>, Mp4Error> {
    let (moov, mdat) = ed.build(ld, region, 0)?;
    let data = padded(ed, moov, mdat);
    let end = region.start + data.len() as u64;
    if end <= ld.len {
        // Only without padding can the new moov be shorter than its region and still not fit
        // (a gap of 1 to 7 bytes, too short for a free box).
        log::info!(
            "{}: moov leaves a gap too short for a free box; rebuilding",
            ed.path.display()
        );
        return Ok(None);
    }
    log::debug!(
        "{}: moov at the end grows the file by {} bytes",
        ed.path.display(),
        end - ld.len
    );
    let fallback =
        super::plan::around_region(region, ld.len, [data.clone(), Vec::new(), Vec::new()]);
    Ok(Some(Plan::Extend {
        len: end - ld.len,
        patches: vec![Patch {
            offset: region.start,
            data,
        }],
        fallback,
    }))
}

/// `moov` in the middle: its region becomes a `free` box and the new `moov` is appended.
fn relocate(ed: &Edited<'_>, ld: &Loaded, region: &Region) -> Result<Plan, Mp4Error> {
    let appended = Region {
        start: ld.len,
        end: ld.len,
        tail_payload: None,
    };
    let (moov, mdat) = ed.build(ld, &appended, 0)?;
    let data = padded(ed, moov, mdat);
    let region_len = region.end - region.start;
    let mut freed = free_header(region_len);
    // A small region is zeroed (no stale sample tables left behind); a huge one only gets
    // its header, its contents being meaningless by definition.
    if region_len <= 1 << 20 {
        freed.resize(region_len as usize, 0);
    }
    let freed_end = region.start + freed.len() as u64;
    log::debug!(
        "{}: moov at {} freed, the new one appended at {}",
        ed.path.display(),
        region.start,
        ld.len
    );
    // region.start > 0 here (only a region far from the start is relocated).
    let fallback = vec![
        Piece::Copy {
            offset: 0,
            len: region.start,
        },
        Piece::Bytes(freed.clone()),
        Piece::Copy {
            offset: freed_end,
            len: ld.len - freed_end,
        },
        Piece::Bytes(data.clone()),
    ];
    Ok(Plan::Extend {
        len: data.len() as u64,
        patches: vec![
            Patch {
                offset: region.start,
                data: freed,
            },
            Patch {
                offset: ld.len,
                data,
            },
        ],
        fallback,
    })
}

/// `moov`, its chapter `mdat`, then the padding: a region with nothing behind it.
fn padded(ed: &Edited<'_>, moov: Vec<u8>, mdat: Vec<u8>) -> Vec<u8> {
    Grown {
        moov,
        mdat,
        free: ed.prepared.padding,
        tail: false,
    }
    .bytes()
}

fn too_big(path: &Path) -> Mp4Error {
    Mp4Error::malformed(path, "moov", "the inserted length overflows")
}
