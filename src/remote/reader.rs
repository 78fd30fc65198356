//! One object as a `Read + Seek` source, by ranged GETs with growing read-ahead.

use super::{ObjectHead, Remote, RemoteError, S3Url, Transfer};
use std::io::{self, Read, Seek, SeekFrom};
use std::sync::Arc;

/// The first request at a new position: a tag header, a box header, a footer.
const FIRST_READ: u64 = 64 * 1024;
/// Read-ahead never grows past this, so memory stays bounded on any object.
const MAX_READ: u64 = 8 * 1024 * 1024;

/// An object read with ranged GETs, each pinned to the ETag first seen (`If-Match`), so a
/// replaced object fails the read instead of mixing two versions.
///
/// Keeps one block. A read outside it fetches a new block at the read position; while reads
/// continue where the block ends the next block is twice as long (up to 8 MiB), so a frame
/// walk streams the object in a few dozen requests and random reads cost 64 KiB each.
pub struct RangeReader {
    remote: Remote,
    url: S3Url,
    head: ObjectHead,
    transfer: Arc<Transfer>,
    block: Vec<u8>,
    block_start: u64,
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
            block: Vec::new(),
            block_start: 0,
            next_len: FIRST_READ,
            pos: 0,
        }
    }

    /// Bytes `[start, end)` through the block (for the shadow and the uploader).
    pub fn range(&mut self, start: u64, end: u64) -> Result<Vec<u8>, RemoteError> {
        let end = end.min(self.head.len);
        if start >= end {
            return Ok(Vec::new());
        }
        if let Some(b) = self.cached(start, end) {
            return Ok(b.to_vec());
        }
        self.remote
            .get_range(&self.url, &self.head.etag, start, end, &self.transfer)
    }

    fn cached(&self, start: u64, end: u64) -> Option<&[u8]> {
        let from = usize::try_from(start.checked_sub(self.block_start)?).ok()?;
        let to = usize::try_from(end.checked_sub(self.block_start)?).ok()?;
        self.block.get(from..to)
    }

    fn fill(&mut self) -> Result<(), RemoteError> {
        let sequential =
            self.pos == self.block_start + self.block.len() as u64 && !self.block.is_empty();
        self.next_len = if sequential {
            (self.next_len * 2).min(MAX_READ)
        } else {
            FIRST_READ
        };
        let end = self.pos.saturating_add(self.next_len).min(self.head.len);
        self.block = Vec::new();
        self.block =
            self.remote
                .get_range(&self.url, &self.head.etag, self.pos, end, &self.transfer)?;
        self.block_start = self.pos;
        Ok(())
    }
}

impl Read for RangeReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.head.len || buf.is_empty() {
            return Ok(0);
        }
        let in_block =
            self.pos >= self.block_start && self.pos < self.block_start + self.block.len() as u64;
        if !in_block {
            self.fill().map_err(io::Error::other)?;
        }
        let from = usize::try_from(self.pos - self.block_start).map_err(io::Error::other)?;
        let avail = self.block.get(from..).unwrap_or_default();
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
