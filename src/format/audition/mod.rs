//! Adobe Audition marker lists (`Markers panel › Export Selected Markers to CSV`): a header
//! `Name<TAB>Start<TAB>Duration<TAB>Time Format<TAB>Type<TAB>Description` and one row per
//! marker. The file is named `.csv` but is tab-separated.
//!
//! Times follow each row's `Time Format` column:
//! - `decimal`: `m:ss.ddd` (`1:16.655`), `h:mm:ss.ddd` past an hour;
//! - `<rate> Hz` (`48000 Hz`): a sample count; the sample rate is the one the column names,
//!   so the file is self-contained. A bare `samples` without a rate is refused (re-export in
//!   decimal, or with the rate), because guessing the rate would move every chapter;
//! - `<rate> fps` (`25 fps`, `29.97 fps`): `h:mm:ss:ff` timecode, non-drop-frame; `29.97`
//!   and `23.976` count frames at 30 and 24 with the 1000/1001 clock. Drop-frame (`;`) is
//!   refused.
//!
//! A marker with a non-zero `Duration` is a range: the chapter gets an end. `Description`
//! becomes the chapter description. Columns are found by their header names, so extra or
//! reordered columns are fine; `Name` and `Start` are required. Markers named `// …` are
//! notes (see [`super::markers`]).
//!
//! Writing uses `decimal`, type `Cue`, the chapter's end as the duration when it has one
//! (else `0:00.000`), and the description; URLs and images are not carried.

mod read;
mod write;

pub use read::read;
pub use write::write;

/// The header Audition writes (the first three columns are enough to recognise it).
pub(crate) const HEADER: &str = "Name\tStart\tDuration\tTime Format\tType\tDescription";

/// The first line is Audition's marker header.
pub(crate) fn sniff(body: &str) -> bool {
    body.lines()
        .next()
        .is_some_and(|l| l.starts_with("Name\tStart\tDuration"))
}
