//! `mixed-stream`: the audio changes sample rate or channel count part-way through.
//!
//! Stitched podcast MP3s (dynamic ad insertion) concatenate separately encoded parts; when a
//! part has another rate or channel count, players differ: ffmpeg times the first frame after
//! a change at the old rate, others resample from a wrong assumption or stop. Chapter starts
//! after such a change may then play early or late, so `check` and `write` say where the
//! changes are — which are also the ad breaks, good places for chapters.

use super::{Builder, Rule, Severity, format_length};
use crate::probe::ProbeInfo;
use crate::time::Time;

/// One place where the stream's sample rate or channel count changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamChange {
    /// Where the new part starts in the playback (rounded down to the millisecond).
    pub at: Time,
    /// Byte offset of the new part (its ID3v2 tag, else its first frame).
    pub offset: u64,
    /// Sample rate and channel count before the change.
    pub from: (u32, u16),
    /// Sample rate and channel count after it.
    pub to: (u32, u16),
}

/// The rate and channel changes between the segments the probe found (none for anything but
/// a stitched MP3).
pub fn stream_changes(info: &ProbeInfo) -> Vec<StreamChange> {
    let Some(mp3) = &info.mp3 else {
        return Vec::new();
    };
    mp3.segments
        .windows(2)
        .filter_map(|pair| {
            let [a, b] = pair else { return None };
            let (from, to) = ((a.sample_rate, a.channels), (b.sample_rate, b.channels));
            (from != to).then_some(StreamChange {
                at: Time::from_millis(b.start_ms),
                offset: b.offset,
                from,
                to,
            })
        })
        .collect()
}

fn describe((rate, channels): (u32, u16)) -> String {
    let layout = match channels {
        1 => "mono".to_string(),
        2 => "stereo".to_string(),
        n => format!("{n} ch"),
    };
    format!("{rate} Hz {layout}")
}

/// One `mixed-stream` warning per change, naming where it is.
pub(super) fn check_stream(b: &mut Builder, changes: &[StreamChange]) {
    for c in changes {
        b.push(
            Severity::Warning,
            Rule::MixedStream,
            None,
            // Leading with the time keeps several changes in playback order (the validator
            // sorts whole-list diagnostics by message).
            format!(
                "at {} (byte {}) the audio changes from {} to {}; some players mis-time chapters after such a change",
                format_length(c.at),
                c.offset,
                describe(c.from),
                describe(c.to)
            ),
            Some(
                "re-encode the file to one rate and channel count, or check the chapter times in the players you target; the change is an ad break, a natural chapter start"
                    .to_string(),
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chapter::{Chapter, ChapterList};
    use crate::time::SampleTime;
    use crate::validate::{Context, Profile, validate};

    fn ctx(profile: Profile) -> Context {
        Context {
            duration: Some(SampleTime::new(10 * 44_100, 44_100)),
            profile,
            stream_changes: vec![
                StreamChange {
                    at: Time::from_millis(5_038),
                    offset: 41_206,
                    from: (44_100, 2),
                    to: (22_050, 1),
                },
                StreamChange {
                    at: Time::from_millis(3_000),
                    offset: 24_629,
                    from: (48_000, 2),
                    to: (44_100, 2),
                },
            ],
            ..Context::default()
        }
    }

    #[test]
    fn one_warning_per_change_in_playback_order() {
        let list = ChapterList {
            chapters: vec![Chapter::new(Time::ZERO, "Episode")],
            ..ChapterList::default()
        };
        let diags: Vec<_> = validate(&list, &[], &ctx(Profile::Default))
            .into_iter()
            .filter(|d| d.rule == Rule::MixedStream)
            .collect();
        assert_eq!(diags.len(), 2);
        assert!(diags.iter().all(|d| d.severity == Severity::Warning));
        assert!(
            diags[0].message.starts_with(
                "at 00:03.000 (byte 24629) the audio changes from 48000 Hz stereo to 44100 Hz stereo"
            ),
            "{}",
            diags[0].message
        );
        assert!(
            diags[1]
                .message
                .contains("44100 Hz stereo to 22050 Hz mono")
        );
        // The strict profile makes it an error, like every warning.
        let strict = validate(&list, &[], &ctx(Profile::Strict));
        assert!(
            strict
                .iter()
                .any(|d| d.rule == Rule::MixedStream && d.severity == Severity::Error)
        );
    }
}
