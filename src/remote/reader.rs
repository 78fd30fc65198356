//! One object as a `Read + Seek` source, by ranged GETs with growing read-ahead.

use super::{ObjectHead, Remote, RemoteError, S3Url, Transfer};
use std::collections::VecDeque;
use std::io::{self, Read, Seek, SeekFrom};
use std::sync::Arc;

/// The first request at a new position: a tag header, a box header, a footer.
const FIRST_READ: u64 = 64 * 1024;
/// Read-ahead never grows past this, so memory stays bounded on any object.
const MAX_READ: u64 = 8 * 1024 * 1024;
/// Bytes of recent blocks kept: parsers go back over what they read (the MP4 prober reads
/// `moov` more than once, the planners read the tag the probe read), and a request costs
/// far more than the memory.
const CACHE_BYTES: usize = 16 * 1024 * 1024;

/// An object read with ranged GETs, each pinned to the ETag first seen (`If-Match`), so a
/// replaced object fails the read instead of mixing two versions.
///
/// A read that no cached block holds fetches a block at the read position; while reads
/// continue where the last block ends the next block is twice as long (up to 8 MiB), so a
/// frame walk streams the object in a few dozen requests and random reads cost 64 KiB each.
pub struct RangeReader {
    remote: Remote,
    url: S3Url,
    head: ObjectHead,
    transfer: Arc<Transfer>,
    /// Recent blocks `(start, bytes)`, newest last.
    blocks: VecDeque<(u64, Vec<u8>)>,
    next_len: u64,
    pos: u64,
}

impl RangeReader {
    /// Reads `url`, whose HEAD is `head`; bytes moved are added to `transfer`.
    pub fn new(remote: Remote, url: S3Url, head: ObjectHead, transfer: Arc<Transfer>) -> Self {
        RangeReader {
            remote,
            url,
            head,
            transfer,
            blocks: VecDeque::new(),
            next_len: FIRST_READ,
            pos: 0,
        }
    }

    /// Bytes `[start, end)`: what cached blocks hold from `start` on, the rest with one
    /// request of exactly the missing bytes (not cached: the uploader's padding is read once).
    pub fn range(&mut self, start: u64, end: u64) -> Result<Vec<u8>, RemoteError> {
        let end = end.min(self.head.len);
        let mut out = Vec::new();
        let mut at = start;
        while at < end {
            let Some(have) = self.cached(at) else { break };
            let n = have
                .len()
                .min(usize::try_from(end - at).unwrap_or(usize::MAX));
            out.extend_from_slice(&have[..n]);
            at += n as u64;
        }
        if at < end {
            out.extend(self.remote.get_range(
                &self.url,
                &self.head.etag,
                at,
                end,
                &self.transfer,
            )?);
        }
        Ok(out)
    }

    /// The cached bytes from `pos` to the end of the block that holds it.
    fn cached(&self, pos: u64) -> Option<&[u8]> {
        self.blocks.iter().rev().find_map(|(start, b)| {
            let from = usize::try_from(pos.checked_sub(*start)?).ok()?;
            b.get(from..).filter(|s| !s.is_empty())
        })
    }

    fn fill(&mut self) -> Result<(), RemoteError> {
        let sequential = self
            .blocks
            .back()
            .is_some_and(|(s, b)| s + b.len() as u64 == self.pos);
        self.next_len = if sequential {
            (self.next_len * 2).min(MAX_READ)
        } else {
            FIRST_READ
        };
        let end = self.pos.saturating_add(self.next_len).min(self.head.len);
        let block =
            self.remote
                .get_range(&self.url, &self.head.etag, self.pos, end, &self.transfer)?;
        self.blocks.push_back((self.pos, block));
        while self.blocks.len() > 1
            && self.blocks.iter().map(|(_, b)| b.len()).sum::<usize>() > CACHE_BYTES
        {
            self.blocks.pop_front();
        }
        Ok(())
    }
}

impl Read for RangeReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.head.len || buf.is_empty() {
            return Ok(0);
        }
        if self.cached(self.pos).is_none() {
            self.fill().map_err(io::Error::other)?;
        }
        let avail = self.cached(self.pos).unwrap_or_default();
        let n = avail.len().min(buf.len());
        buf[..n].copy_from_slice(&avail[..n]);
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for RangeReader {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.head.len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos = target
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before the start"))?;
        Ok(self.pos)
    }
}
