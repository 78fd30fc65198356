//! Pauses: stretches of low energy in a loudness curve, with a threshold relative to the
//! episode's loudness (so a quiet recording and a loud one are judged alike).

use super::Frames;
use crate::time::Time;

/// A stretch of low energy: `[start, end)` in playable time. `end` is where sound resumes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Pause {
    /// Where the low energy starts (or the start of the analysed window, if it was already low).
    pub start: Time,
    /// Where the sound resumes.
    pub end: Time,
}

/// The loudness reference of a set of curves: the 90th percentile of the frames' RMS, so
/// speech (which pauses between words) is measured by its voiced frames, and a few clicks do
/// not count. 0.0 without frames.
pub fn reference_level<'a>(curves: impl IntoIterator<Item = &'a Frames>) -> f32 {
    let mut all: Vec<f32> = curves
        .into_iter()
        .flat_map(|f| f.rms.iter().copied())
        .filter(|v| v.is_finite())
        .collect();
    if all.is_empty() {
        return 0.0;
    }
    all.sort_by(f32::total_cmp);
    let at = (all.len() - 1) * 9 / 10;
    all.get(at).copied().unwrap_or(0.0)
}

/// The pauses of at least `min_len` in `frames`, where a frame is quiet below `threshold`
/// (linear RMS). A quiet run that reaches the end of the curve is left out unless
/// `ends_at_end`: where it ends is not known.
pub fn find(frames: &Frames, threshold: f32, min_len: Time, ends_at_end: bool) -> Vec<Pause> {
    let mut out = Vec::new();
    let mut run_start: Option<usize> = None;
    for (i, &v) in frames.rms.iter().enumerate() {
        let quiet = v < threshold;
        match (quiet, run_start) {
            (true, None) => run_start = Some(i),
            (false, Some(s)) => {
                push_if_long(&mut out, frames, s, i, min_len);
                run_start = None;
            }
            _ => {}
        }
    }
    if let (Some(s), true) = (run_start, ends_at_end) {
        push_if_long(&mut out, frames, s, frames.len(), min_len);
    }
    out
}

fn push_if_long(out: &mut Vec<Pause>, frames: &Frames, from: usize, to: usize, min_len: Time) {
    let p = Pause {
        start: frames.time_of(from),
        end: frames.time_of(to),
    };
    if p.end.saturating_sub(p.start) >= min_len {
        out.push(p);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn curve(rms: &[f32]) -> Frames {
        Frames {
            start: Time::from_millis(1000),
            hop: 480,
            sample_rate: 48_000,
            rms: rms.to_vec(),
            peak: rms.to_vec(),
        }
    }

    #[test]
    fn finds_long_quiet_runs_only() {
        let mut rms = vec![0.5f32; 100];
        for v in rms.iter_mut().skip(10).take(20) {
            *v = 0.001; // 200 ms quiet
        }
        for v in rms.iter_mut().skip(50).take(5) {
            *v = 0.001; // 50 ms: a gap between words
        }
        let p = find(&curve(&rms), 0.01, Time::from_millis(150), false);
        assert_eq!(
            p,
            vec![Pause {
                start: Time::from_millis(1100),
                end: Time::from_millis(1300)
            }]
        );
    }

    #[test]
    fn trailing_quiet_run_counts_only_at_the_end_of_the_audio() {
        let mut rms = vec![0.5f32; 40];
        for v in rms.iter_mut().skip(20) {
            *v = 0.0;
        }
        assert!(find(&curve(&rms), 0.01, Time::from_millis(150), false).is_empty());
        assert_eq!(
            find(&curve(&rms), 0.01, Time::from_millis(150), true).len(),
            1
        );
    }

    #[test]
    fn reference_is_the_loud_end() {
        let mut rms = vec![0.0f32; 50];
        rms.extend(std::iter::repeat_n(0.4, 50));
        let r = reference_level([&curve(&rms)]);
        assert!((r - 0.4).abs() < 1e-6);
    }
}
