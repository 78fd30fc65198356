//! Waiting for another chapmark process that holds a file's lock: said out loud (a stopped
//! writer would otherwise make a reader or a second batch wait silently forever) and bounded
//! (the binary's `--lock-timeout`).

use crate::write::WriteError;
use std::path::Path;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Default limit in seconds: long enough for any rebuild of a real episode.
pub const DEFAULT_SECS: u64 = 300;

static TIMEOUT: OnceLock<Duration> = OnceLock::new();

/// Sets the limit for this process, in seconds (`0` fails at once instead of waiting).
/// Only the first call counts.
pub fn set_timeout(secs: u64) {
    let _ = TIMEOUT.set(Duration::from_secs(secs));
}

fn timeout() -> Duration {
    *TIMEOUT.get_or_init(|| Duration::from_secs(DEFAULT_SECS))
}

/// Retries `try_lock` (a non-blocking lock attempt: `Ok(true)` granted, `Ok(false)` still
/// held by someone else) until it is granted or the timeout passes, after saying once in the
/// log (at warning level, which the binary shows by default) that we are waiting. `Err` on
/// timeout; `Ok(false)` when locking fails outright (the file is then used unlocked).
pub(super) fn wait(
    target: &Path,
    mut try_lock: impl FnMut() -> std::io::Result<bool>,
) -> Result<bool, WriteError> {
    let limit = timeout();
    let name = target.display();
    let timed_out = || WriteError::LockTimeout {
        path: target.to_path_buf(),
        secs: limit.as_secs(),
    };
    if limit.is_zero() {
        return Err(timed_out());
    }
    log::warn!(
        "{name}: waiting for another chapmark process working on it (at most {} s)",
        limit.as_secs()
    );
    let start = Instant::now();
    let mut pause = Duration::from_millis(10);
    loop {
        match try_lock() {
            Ok(true) => {
                log::info!(
                    "{name}: got the lock after {:.1} s",
                    start.elapsed().as_secs_f64()
                );
                return Ok(true);
            }
            Ok(false) => {}
            Err(e) => {
                log::debug!("{name}: cannot lock: {e}");
                return Ok(false);
            }
        }
        if start.elapsed() >= limit {
            return Err(timed_out());
        }
        std::thread::sleep(pause.min(limit.saturating_sub(start.elapsed())));
        pause = (pause * 2).min(Duration::from_millis(250));
    }
}
