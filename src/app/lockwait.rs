//! Waiting for another chapmark process that holds a file's lock: said out loud (a stopped
//! writer would otherwise make a reader or a second batch wait silently forever) and bounded
//! by `--lock-timeout`.

use std::path::Path;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Default for `--lock-timeout`: long enough for any rebuild of a real episode.
pub const DEFAULT_SECS: u64 = 300;

static TIMEOUT: OnceLock<Duration> = OnceLock::new();

/// Sets the limit for this process (`--lock-timeout`; `0` fails at once).
pub fn set_timeout(secs: u64) {
    let _ = TIMEOUT.set(Duration::from_secs(secs));
}

fn timeout() -> Duration {
    *TIMEOUT.get_or_init(|| Duration::from_secs(DEFAULT_SECS))
}

/// Retries `try_lock` (a non-blocking lock attempt: `Ok(true)` granted, `Ok(false)` still
/// held by someone else) until it is granted or the timeout passes, after saying once on
/// standard error that we are waiting. `Err` on timeout or when locking fails outright.
pub fn wait(
    target: &Path,
    mut try_lock: impl FnMut() -> std::io::Result<bool>,
) -> anyhow::Result<()> {
    let limit = timeout();
    let name = target.display();
    if limit.is_zero() {
        anyhow::bail!(
            "{name}: another chapmark process is working on it (--lock-timeout 0: not waiting)"
        );
    }
    log::warn!(
        "{name}: waiting for another chapmark process working on it (at most {} s; --lock-timeout)",
        limit.as_secs()
    );
    let start = Instant::now();
    let mut pause = Duration::from_millis(10);
    loop {
        if try_lock()? {
            log::info!(
                "{name}: got the lock after {:.1} s",
                start.elapsed().as_secs_f64()
            );
            return Ok(());
        }
        if start.elapsed() >= limit {
            anyhow::bail!(
                "{name}: another chapmark process has been working on it for {} s; gave up \
                 (is one stopped? raise --lock-timeout to wait longer)",
                limit.as_secs()
            );
        }
        std::thread::sleep(pause.min(limit.saturating_sub(start.elapsed())));
        pause = (pause * 2).min(Duration::from_millis(250));
    }
}
