//! The fault-injection test hook: abort at a named point of a write, only when built with
//! the `fault-injection` feature.

/// Environment variable naming the [`FaultPoint`] (by number) at which to abort. Test hook.
#[cfg(feature = "fault-injection")]
pub const FAULT_ENV: &str = "CHAPMARK_FAULT";

/// Places where `FAULT_ENV` (with the `fault-injection` feature) can make the process abort, in the order a write reaches them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FaultPoint {
    /// Patch and insert: half of the journal written, not yet synced (leaves an incomplete
    /// journal).
    JournalHalfWritten = 1,
    /// Patch and insert: journal complete and synced, file not yet touched.
    JournalWritten = 2,
    /// Patch and insert: half of the patch bytes written to the file (for an insert: after
    /// the insertion).
    PatchHalfWritten = 3,
    /// Patch and insert: all patches written and synced, journal not yet deleted.
    Patched = 4,
    /// Rebuild: half of the new file written to the temporary sibling.
    RebuildHalfCopied = 5,
    /// Rebuild: temporary file complete and synced, not yet renamed.
    BeforeRename = 6,
    /// Rebuild: renamed into place, directory not yet synced.
    AfterRename = 7,
    /// Insert: the journal is complete and the space inserted at the start of the file, no
    /// patch written yet (the file starts with zeros). An insert also passes
    /// [`JournalHalfWritten`](Self::JournalHalfWritten), [`JournalWritten`](Self::JournalWritten),
    /// [`PatchHalfWritten`](Self::PatchHalfWritten) and [`Patched`](Self::Patched).
    Inserted = 8,
    /// Extend: the journal is complete and the file extended at its end (zeros), no patch
    /// written yet. An extend also passes the patch points 1 to 4.
    Extended = 9,
}

impl FaultPoint {
    /// Every fault point, for tests that try each one.
    pub const ALL: [FaultPoint; 9] = [
        FaultPoint::JournalHalfWritten,
        FaultPoint::JournalWritten,
        FaultPoint::PatchHalfWritten,
        FaultPoint::Patched,
        FaultPoint::RebuildHalfCopied,
        FaultPoint::BeforeRename,
        FaultPoint::AfterRename,
        FaultPoint::Inserted,
        FaultPoint::Extended,
    ];

    /// The number to put in `FAULT_ENV`.
    pub fn number(self) -> u8 {
        self as u8
    }
}

#[cfg(feature = "fault-injection")]
pub(super) fn fault(point: FaultPoint) {
    use std::sync::OnceLock;
    static WANTED: OnceLock<Option<u8>> = OnceLock::new();
    let wanted = WANTED.get_or_init(|| {
        std::env::var(FAULT_ENV)
            .ok()
            .and_then(|v| v.trim().parse().ok())
    });
    if *wanted == Some(point.number()) {
        if std::env::var_os(FAULT_ACTION_ENV).is_some_and(|a| a == "stop") {
            log::error!("{FAULT_ENV}: stopping at fault point {point:?}");
            // SAFETY: raising a signal at ourselves has no memory-safety preconditions.
            #[cfg(unix)]
            unsafe {
                libc::raise(libc::SIGSTOP);
            }
            return;
        }
        log::error!("{FAULT_ENV}: aborting at fault point {point:?}");
        std::process::abort();
    }
}

/// Environment variable: `stop` makes the `FAULT_ENV` point stop the process (`SIGSTOP`)
/// instead of aborting it, so a test can change the file meanwhile and let it continue.
#[cfg(feature = "fault-injection")]
pub const FAULT_ACTION_ENV: &str = "CHAPMARK_FAULT_ACTION";

/// Without the `fault-injection` feature the hook compiles to nothing.
#[cfg(not(feature = "fault-injection"))]
#[inline(always)]
pub(super) fn fault(_: FaultPoint) {}
