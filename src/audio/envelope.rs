//! The whole episode's loudness envelope, for pictures and editors: `buckets` equal slices of
//! the playable timeline, each with its peak and RMS — and a cache of it next to the audio.
//!
//! # The peaks cache (`EP.mp3.peaks`)
//!
//! Decoding a long episode is the slow part of a picture, so the envelope is kept next to the
//! audio as `<audio file name>.peaks` and reused while the audio is unchanged. The file is
//! little-endian binary:
//!
//! | bytes | field |
//! |---|---|
//! | 8 | magic `CMPEAKS1` |
//! | 8 | audio file size (u64) |
//! | 8 | audio modification time, ns since the Unix epoch (i64; 0 when unknown) |
//! | 4 | CRC-32 of the audio's first and last 64 KiB |
//! | 4 | sample rate (u32) |
//! | 8 | playable length in samples (u64) |
//! | 4 | bucket count `n` (u32, at most [`MAX_BUCKETS`]) |
//! | 4·n | per bucket: peak (u16), RMS (u16); full scale = 65535 |
//!
//! The cache is valid when size, modification time and head/tail CRC all match; anything
//! else (another version, a damaged file) is ignored and rewritten. Writing it is best
//! effort: a read-only directory only costs the next run a decode.

use super::AudioError;
use super::decode::{Accumulator, Decoder};
use crate::probe::ProbeInfo;
use crate::time::SampleTime;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// The most buckets an envelope (and a cache) holds.
pub const MAX_BUCKETS: usize = 1 << 16;
/// The cache's buckets: fine enough for any picture width up to this many columns.
pub const CACHE_BUCKETS: usize = 8192;
const MAGIC: &[u8; 8] = b"CMPEAKS1";
const HEADER_LEN: usize = 44;
/// How much of the audio's head and tail the cache key hashes.
const KEY_SPAN: u64 = 64 * 1024;

/// Peak and RMS of equal slices of the playable timeline (mono, full scale = 1.0).
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    /// Largest absolute sample per bucket.
    pub peaks: Vec<f32>,
    /// Root mean square per bucket.
    pub rms: Vec<f32>,
    /// Sample rate of the audio.
    pub sample_rate: u32,
    /// The exact playable length (as `probe` measures it).
    pub duration: SampleTime,
}

impl Envelope {
    /// The envelope in `n` buckets (peaks: max; RMS: power mean), for a picture `n` wide.
    pub fn resample(&self, n: usize) -> Envelope {
        let n = n.clamp(1, MAX_BUCKETS);
        let len = self.peaks.len();
        let mut peaks = Vec::with_capacity(n);
        let mut rms = Vec::with_capacity(n);
        for k in 0..n {
            let a = k * len / n;
            let b = ((k + 1) * len / n).max(a + 1).min(len);
            let p = self.peaks.get(a..b).unwrap_or(&[]);
            let r = self.rms.get(a..b).unwrap_or(&[]);
            peaks.push(p.iter().copied().fold(0.0, f32::max));
            let pow = r.iter().map(|v| v * v).sum::<f32>() / r.len().max(1) as f32;
            rms.push(pow.sqrt());
        }
        Envelope {
            peaks,
            rms,
            sample_rate: self.sample_rate,
            duration: self.duration,
        }
    }
}

/// The envelope of the audio at `path` in `buckets` slices, from the cache next to it when
/// that is current, else decoded (and the cache written).
pub fn envelope(path: &Path, buckets: usize) -> Result<Envelope, AudioError> {
    let info = crate::probe::probe_path(path)?;
    envelope_of(path, &info, buckets, true)
}

/// [`envelope`] for audio already probed; `use_cache` off decodes and leaves no file.
pub fn envelope_of(
    path: &Path,
    info: &ProbeInfo,
    buckets: usize,
    use_cache: bool,
) -> Result<Envelope, AudioError> {
    let cache = cache_path(path);
    let key = if use_cache {
        cache_key(path).ok()
    } else {
        None
    };
    if let Some(k) = &key {
        if let Some(env) = read_cache(&cache, k, info) {
            log::debug!("{}: envelope from {}", path.display(), cache.display());
            return Ok(env.resample(buckets));
        }
    }
    let fine = decode(path, info, CACHE_BUCKETS.max(buckets).min(MAX_BUCKETS))?;
    if let Some(k) = &key {
        if let Err(e) = write_cache(&cache, k, &fine) {
            log::info!("{}: cannot write the peaks cache: {e}", cache.display());
        }
    }
    Ok(fine.resample(buckets))
}

/// `EP.mp3` → `EP.mp3.peaks`.
pub fn cache_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".peaks");
    PathBuf::from(s)
}

/// Decodes the whole file once, into `n` buckets. Long files are cut into a few parts at
/// bucket boundaries, decoded in parallel (each part seeks, so only its own frames decode).
fn decode(path: &Path, info: &ProbeInfo, n: usize) -> Result<Envelope, AudioError> {
    use rayon::prelude::*;
    let total = info.duration.samples.max(1);
    // Buckets of whole samples: the last bucket takes the remainder.
    let hop = total.div_ceil(n as u64).max(1);
    let rate = u64::from(info.duration.sample_rate.max(1));
    // Parts of at least ten minutes: a seek and its priming cost nothing next to that.
    let parts = std::thread::available_parallelism()
        .map_or(1, |p| p.get())
        .min(usize::try_from(total / (600 * rate)).unwrap_or(1))
        .clamp(1, 8) as u64;
    let buckets_per_part = (n as u64).div_ceil(parts);
    let decoded: Vec<(Vec<f32>, Vec<f32>, u32)> = (0..parts)
        .into_par_iter()
        .map(|k| {
            let first = (k * buckets_per_part * hop).min(total);
            let last = ((k + 1) * buckets_per_part * hop).min(total);
            decode_part(path, info, first, last, hop)
        })
        .collect::<Result<_, _>>()?;
    let mut peaks = Vec::with_capacity(n);
    let mut rms = Vec::with_capacity(n);
    let mut sample_rate = info.duration.sample_rate;
    for (p, r, sr) in decoded {
        peaks.extend(p);
        rms.extend(r);
        sample_rate = sr;
    }
    peaks.resize(n, 0.0);
    rms.resize(n, 0.0);
    Ok(Envelope {
        peaks,
        rms,
        sample_rate,
        duration: info.duration,
    })
}

/// Peak and RMS of playable samples `[first, last)` in buckets of `hop`.
fn decode_part(
    path: &Path,
    info: &ProbeInfo,
    first: u64,
    last: u64,
    hop: u64,
) -> Result<(Vec<f32>, Vec<f32>, u32), AudioError> {
    let mut dec = Decoder::open(path, info)?;
    let mut acc = Accumulator::new(usize::try_from(hop).unwrap_or(usize::MAX));
    if first > 0 {
        let rate = u64::from(dec.sample_rate().max(1));
        dec.seek_before(crate::time::Time::from_millis(first * 1000 / rate))?;
    }
    let to_i = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    dec.decode_range(to_i(first), to_i(last), &mut acc)?;
    acc.flush();
    // Exactly this part's buckets, so the next part's start where they should even when a
    // damaged frame was skipped here.
    let count = usize::try_from((last - first).div_ceil(hop)).unwrap_or(0);
    acc.peak.resize(count, 0.0);
    acc.rms.resize(count, 0.0);
    Ok((acc.peak, acc.rms, dec.sample_rate()))
}

/// Size, mtime and a CRC of the head and tail: what says "the same audio".
#[derive(Debug, Clone, PartialEq, Eq)]
struct CacheKey {
    size: u64,
    mtime_ns: i64,
    crc: u32,
}

fn cache_key(path: &Path) -> std::io::Result<CacheKey> {
    let mut f = std::fs::File::open(path)?;
    let meta = f.metadata()?;
    let size = meta.len();
    let mtime_ns = meta
        .modified()
        .ok()
        .and_then(|m| m.duration_since(std::time::UNIX_EPOCH).ok())
        .and_then(|d| i64::try_from(d.as_nanos()).ok())
        .unwrap_or(0);
    let mut crc = crc32fast::Hasher::new();
    let mut buf = vec![0u8; KEY_SPAN as usize];
    for at in [0, size.saturating_sub(KEY_SPAN)] {
        f.seek(SeekFrom::Start(at))?;
        let n = (&mut f).take(KEY_SPAN).read(&mut buf)?;
        crc.update(buf.get(..n).unwrap_or(&[]));
    }
    Ok(CacheKey {
        size,
        mtime_ns,
        crc: crc.finalize(),
    })
}

fn read_cache(cache: &Path, key: &CacheKey, info: &ProbeInfo) -> Option<Envelope> {
    let limit = (HEADER_LEN + 4 * MAX_BUCKETS) as u64;
    let mut bytes = Vec::new();
    std::fs::File::open(cache)
        .ok()?
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .ok()?;
    let head = bytes.get(..HEADER_LEN)?;
    let u64_at = |o: usize| Some(u64::from_le_bytes(head.get(o..o + 8)?.try_into().ok()?));
    let u32_at = |o: usize| Some(u32::from_le_bytes(head.get(o..o + 4)?.try_into().ok()?));
    let stored = CacheKey {
        size: u64_at(8)?,
        mtime_ns: u64_at(16)? as i64,
        crc: u32_at(24)?,
    };
    let rate = u32_at(28)?;
    let samples = u64_at(32)?;
    let n = usize::try_from(u32_at(40)?).ok()?;
    if head.get(..8)? != MAGIC
        || stored != *key
        || n == 0
        || n > MAX_BUCKETS
        || rate != info.duration.sample_rate
        || samples != info.duration.samples
        || bytes.len() != HEADER_LEN + 4 * n
    {
        return None;
    }
    let body = bytes.get(HEADER_LEN..)?;
    let level = |c: &[u8]| f32::from(u16::from_le_bytes([c[0], c[1]])) / 65535.0;
    let peaks = body.chunks_exact(4).map(|c| level(&c[..2])).collect();
    let rms = body.chunks_exact(4).map(|c| level(&c[2..])).collect();
    Some(Envelope {
        peaks,
        rms,
        sample_rate: rate,
        duration: info.duration,
    })
}

fn write_cache(cache: &Path, key: &CacheKey, env: &Envelope) -> std::io::Result<()> {
    let n = env.peaks.len().min(MAX_BUCKETS);
    let mut out = Vec::with_capacity(HEADER_LEN + 4 * n);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&key.size.to_le_bytes());
    out.extend_from_slice(&key.mtime_ns.to_le_bytes());
    out.extend_from_slice(&key.crc.to_le_bytes());
    out.extend_from_slice(&env.sample_rate.to_le_bytes());
    out.extend_from_slice(&env.duration.samples.to_le_bytes());
    out.extend_from_slice(&(n as u32).to_le_bytes());
    let q = |v: f32| ((v.clamp(0.0, 1.0) * 65535.0).round() as u16).to_le_bytes();
    for (p, r) in env.peaks.iter().zip(&env.rms).take(n) {
        out.extend_from_slice(&q(*p));
        out.extend_from_slice(&q(*r));
    }
    // Atomic: a reader never sees half a cache.
    let dir = cache.parent().filter(|d| !d.as_os_str().is_empty());
    let mut tmp = tempfile::NamedTempFile::new_in(dir.unwrap_or(Path::new(".")))?;
    std::io::Write::write_all(&mut tmp, &out)?;
    tmp.persist(cache).map_err(|e| e.error)?;
    Ok(())
}
