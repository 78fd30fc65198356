//! Integer time.
//!
//! Chapter times are kept as whole milliseconds: every chapter format we read or write is at
//! most millisecond-precise (ID3 CHAP is ms, Podcasting 2.0 JSON is seconds with ms precision),
//! so an integer avoids the drift and `0.1 + 0.2` surprises of `f64` seconds. Audio lengths keep
//! their native sample count and rate ([`SampleTime`]) until the moment they are compared.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A point or span on the episode timeline, in whole milliseconds.
///
/// Serialises as an integer count of milliseconds.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Time(u64);

impl Time {
    /// The start of the episode.
    pub const ZERO: Time = Time(0);

    /// Builds a time from milliseconds.
    pub const fn from_millis(ms: u64) -> Self {
        Time(ms)
    }

    /// Builds a time from whole seconds (saturating, so hostile input cannot overflow).
    pub const fn from_secs(s: u64) -> Self {
        Time(s.saturating_mul(1000))
    }

    /// Builds a time from hours, minutes, seconds and milliseconds, returning `None` on
    /// overflow instead of wrapping.
    pub fn from_hmsm(h: u64, m: u64, s: u64, ms: u64) -> Option<Self> {
        h.checked_mul(3_600_000)?
            .checked_add(m.checked_mul(60_000)?)?
            .checked_add(s.checked_mul(1000)?)?
            .checked_add(ms)
            .map(Time)
    }

    /// Converts a count of `units` per second (e.g. a TIMEBASE of 1/75 or 1/10_000_000) into
    /// milliseconds, rounding to the nearest millisecond. Returns `None` for a zero rate or
    /// overflow.
    pub fn from_units(value: u64, units_per_sec: u64) -> Option<Self> {
        if units_per_sec == 0 {
            return None;
        }
        let ms = (value as u128 * 1000 + units_per_sec as u128 / 2) / units_per_sec as u128;
        u64::try_from(ms).ok().map(Time)
    }

    /// Converts into `units_per_sec` units, rounding to the nearest unit.
    pub fn to_units(self, units_per_sec: u64) -> u64 {
        let v = (self.0 as u128 * units_per_sec as u128 + 500) / 1000;
        u64::try_from(v).unwrap_or(u64::MAX)
    }

    /// Whole milliseconds.
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// Seconds as a float, only for output formats that demand a JSON number.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1000.0
    }

    /// Difference, clamped at zero.
    pub const fn saturating_sub(self, other: Time) -> Time {
        Time(self.0.saturating_sub(other.0))
    }

    /// Sum, clamped at the maximum.
    pub const fn saturating_add(self, other: Time) -> Time {
        Time(self.0.saturating_add(other.0))
    }

    /// Hours, minutes, seconds and milliseconds parts.
    pub const fn parts(self) -> (u64, u64, u64, u64) {
        let ms = self.0 % 1000;
        let s = self.0 / 1000;
        (s / 3600, (s / 60) % 60, s % 60, ms)
    }

    /// `HH:MM:SS.mmm`, the form of mp4chaps, WebVTT and our error messages.
    pub fn hms_millis(self) -> String {
        let (h, m, s, ms) = self.parts();
        format!("{h:02}:{m:02}:{s:02}.{ms:03}")
    }

    /// The shortest form people write in show notes: `M:SS`, `MM:SS`, `H:MM:SS`, plus
    /// `.mmm` only when the time is not on a whole second.
    pub fn short(self) -> String {
        self.clock(self.parts().0 > 0)
    }

    /// `MM:SS` or, with `hours`, `H:MM:SS`, plus `.mmm` only when the time is not on a whole
    /// second. Lists use one width for every line (`hours` when any start is past an hour).
    pub fn clock(self, hours: bool) -> String {
        let (h, m, s, ms) = self.parts();
        let mut out = if hours {
            format!("{h}:{m:02}:{s:02}")
        } else {
            format!("{:02}:{s:02}", h * 60 + m)
        };
        if ms != 0 {
            out.push_str(&format!(".{ms:03}"));
        }
        out
    }
}

/// Displays as `MM:SS` / `H:MM:SS` with `.mmm` only when needed (see [`Time::short`]).
impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.short())
    }
}

/// An exact audio length: a count of samples (per channel) at a sample rate.
///
/// Kept separate from [`Time`] because the probe's promise is sample accuracy; converting to
/// milliseconds happens only when chapters are compared with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SampleTime {
    /// Samples per channel.
    pub samples: u64,
    /// Samples per second; never zero for a value built by the probe.
    pub sample_rate: u32,
}

impl SampleTime {
    /// Builds a sample-accurate length.
    pub const fn new(samples: u64, sample_rate: u32) -> Self {
        SampleTime {
            samples,
            sample_rate,
        }
    }

    /// Length in milliseconds, rounded down: a chapter must start strictly before the last
    /// sample, so flooring never lets a chapter past the end.
    pub fn to_time_floor(self) -> Time {
        if self.sample_rate == 0 {
            return Time::ZERO;
        }
        Time((self.samples as u128 * 1000 / self.sample_rate as u128) as u64)
    }

    /// Length in milliseconds, rounded to nearest (what we store as a chapter end and `TLEN`).
    pub fn to_time_round(self) -> Time {
        if self.sample_rate == 0 {
            return Time::ZERO;
        }
        let sr = self.sample_rate as u128;
        Time(((self.samples as u128 * 1000 + sr / 2) / sr) as u64)
    }

    /// Seconds as a float, for JSON output only.
    pub fn as_secs_f64(self) -> f64 {
        if self.sample_rate == 0 {
            return 0.0;
        }
        self.samples as f64 / self.sample_rate as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_forms() {
        assert_eq!(Time::from_secs(100).short(), "01:40");
        assert_eq!(Time::from_secs(3723).short(), "1:02:03");
        assert_eq!(Time::from_millis(1_505_250).short(), "25:05.250");
        assert_eq!(Time::from_secs(0).hms_millis(), "00:00:00.000");
    }

    #[test]
    fn units_round_trip() {
        let t = Time::from_millis(123_456);
        assert_eq!(t.to_units(10_000_000), 1_234_560_000);
        assert_eq!(Time::from_units(1_234_560_000, 10_000_000), Some(t));
        assert_eq!(Time::from_units(75, 75), Some(Time::from_secs(1)));
        assert_eq!(Time::from_units(1, 0), None);
    }

    #[test]
    fn hmsm_overflow_is_none() {
        assert_eq!(Time::from_hmsm(u64::MAX, 0, 0, 0), None);
        assert_eq!(
            Time::from_hmsm(1, 2, 3, 4),
            Some(Time::from_millis(3_723_004))
        );
    }

    #[test]
    fn sample_time_rounding() {
        let d = SampleTime::new(44_100 * 60 + 22, 44_100);
        assert_eq!(d.to_time_floor(), Time::from_millis(60_000));
        assert_eq!(d.to_time_round(), Time::from_millis(60_000));
        let d = SampleTime::new(44_100 * 60 + 30, 44_100);
        assert_eq!(d.to_time_round(), Time::from_millis(60_001));
    }
}
