//! A windowed reader: large sequential reads into one reusable buffer, random access by offset.
//!
//! Every container parser looks at small pieces of the file (a 4-byte frame header, a box
//! header, a tag footer) scattered over a large file. Reading each piece with its own syscall
//! costs more than the parsing itself (a 40-minute MP3 has ~100 000 frames), while reading the
//! whole file into memory breaks the bounded-memory promise. This reader keeps one buffer of
//! [`BUF_LEN`] bytes and refills it with a single large read whenever a request falls outside
//! it, so a sequential walk costs one syscall per 256 KiB and memory stays constant.

use std::io::{self, Read, Seek, SeekFrom};

/// Size of the read buffer: large enough that syscalls disappear from the profile of a frame
/// scan, small enough to be irrelevant for memory.
pub(crate) const BUF_LEN: usize = 256 * 1024;

/// The largest window a caller may ask for at once.
pub(crate) const MAX_WINDOW: usize = 64 * 1024;

/// Random-access reader over `R` with one large buffer.
pub(crate) struct Source<R> {
    inner: R,
    buf: Vec<u8>,
    /// File offset of `buf[0]`.
    start: u64,
    /// Valid bytes in `buf`.
    filled: usize,
    /// Where the inner reader's cursor is, to avoid needless seeks.
    inner_pos: u64,
    /// Total length of the underlying stream.
    len: u64,
}

impl<R: Read + Seek> Source<R> {
    /// Wraps a reader, measuring its length once.
    pub(crate) fn new(mut inner: R) -> io::Result<Self> {
        let len = inner.seek(SeekFrom::End(0))?;
        inner.seek(SeekFrom::Start(0))?;
        Ok(Source {
            inner,
            buf: Vec::new(),
            start: 0,
            filled: 0,
            inner_pos: 0,
            len,
        })
    }

    /// Length of the stream in bytes.
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// Returns up to `n` bytes starting at `pos` (fewer only at the end of the stream; empty at
    /// or past the end). `n` is capped at [`MAX_WINDOW`].
    pub(crate) fn window(&mut self, pos: u64, n: usize) -> io::Result<&[u8]> {
        let n = n.min(MAX_WINDOW);
        if pos >= self.len {
            return Ok(&[]);
        }
        let want_end = pos.saturating_add(n as u64).min(self.len);
        let buf_end = self.start + self.filled as u64;
        if pos < self.start || want_end > buf_end {
            self.refill(pos, want_end)?;
        }
        let from = (pos - self.start) as usize;
        let to = ((want_end - self.start) as usize).min(self.filled);
        Ok(self.buf.get(from..to).unwrap_or(&[]))
    }

    /// Makes the buffer start at or before `pos` and hold at least up to `want_end` (or EOF).
    fn refill(&mut self, pos: u64, want_end: u64) -> io::Result<()> {
        if self.buf.is_empty() {
            self.buf = vec![0; BUF_LEN];
        }
        let buf_end = self.start + self.filled as u64;
        let keep = if pos >= self.start && pos < buf_end {
            // Keep the bytes from `pos` on; read the rest after them.
            let from = (pos - self.start) as usize;
            self.buf.copy_within(from..self.filled, 0);
            self.filled - from
        } else {
            0
        };
        self.start = pos;
        self.filled = keep;
        let read_from = pos + keep as u64;
        if self.inner_pos != read_from {
            self.inner.seek(SeekFrom::Start(read_from))?;
            self.inner_pos = read_from;
        }
        // Fill the whole buffer (or up to EOF): `want_end - pos` is at most MAX_WINDOW, far
        // below BUF_LEN, so a full buffer always covers the request.
        debug_assert!(want_end - pos <= BUF_LEN as u64);
        while self.filled < self.buf.len() {
            let got = match self.inner.read(&mut self.buf[self.filled..]) {
                Ok(0) => break,
                Ok(k) => k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            self.filled += got;
            self.inner_pos += got as u64;
        }
        Ok(())
    }

    /// Reads exactly `n` bytes at `pos`, or `None` when the stream ends first.
    pub(crate) fn bytes<const N: usize>(&mut self, pos: u64) -> io::Result<Option<[u8; N]>> {
        let w = self.window(pos, N)?;
        Ok(w.get(..N).and_then(|s| <[u8; N]>::try_from(s).ok()))
    }

    /// Gives the inner reader back (positioned arbitrarily).
    pub(crate) fn into_inner(self) -> R {
        self.inner
    }
}

/// A view of a reader that starts at `base`: position 0 of the view is `base` in the inner
/// reader. Lets container parsers that insist on starting at their magic (hound, symphonia)
/// read a file that carries a leading ID3v2 tag.
pub(crate) struct Offset<R> {
    inner: R,
    base: u64,
}

impl<R: Read + Seek> Offset<R> {
    /// Positions the view at its start.
    pub(crate) fn new(mut inner: R, base: u64) -> io::Result<Self> {
        inner.seek(SeekFrom::Start(base))?;
        Ok(Offset { inner, base })
    }
}

impl<R: Read> Read for Offset<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf)
    }
}

impl<R: Seek> Seek for Offset<R> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        let abs = match pos {
            SeekFrom::Start(p) => self
                .inner
                .seek(SeekFrom::Start(self.base.saturating_add(p)))?,
            other => self.inner.seek(other)?,
        };
        if abs < self.base {
            self.inner.seek(SeekFrom::Start(self.base))?;
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek before the start of the audio",
            ));
        }
        Ok(abs - self.base)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    #[test]
    fn windows_across_refills() {
        let data: Vec<u8> = (0..(BUF_LEN * 3 + 17)).map(|i| (i % 251) as u8).collect();
        let mut s = Source::new(Cursor::new(data.clone())).unwrap();
        for &pos in &[
            0usize,
            5,
            BUF_LEN - 2,
            BUF_LEN * 2 + 100,
            3,
            BUF_LEN * 3 + 10,
        ] {
            let w = s.window(pos as u64, 16).unwrap().to_vec();
            let end = (pos + 16).min(data.len());
            assert_eq!(w, &data[pos..end], "at {pos}");
        }
        assert!(s.window(data.len() as u64, 4).unwrap().is_empty());
        assert_eq!(s.bytes::<4>(data.len() as u64 - 2).unwrap(), None);
    }

    #[test]
    fn offset_view() {
        let mut o = Offset::new(Cursor::new(b"xxxxRIFF".to_vec()), 4).unwrap();
        let mut b = [0u8; 4];
        o.read_exact(&mut b).unwrap();
        assert_eq!(&b, b"RIFF");
        assert_eq!(o.seek(SeekFrom::Start(1)).unwrap(), 1);
        assert_eq!(o.seek(SeekFrom::End(0)).unwrap(), 4);
    }
}
