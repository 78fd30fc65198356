//! `chapmark convert`: any chapters input → any chapter format.

use super::common::{self, emit, parse_duration_arg};
use super::{Outcome, Ui};
use crate::cli::{ConvertArgs, ExitStatus};
use chapmark::format::{self, WriteOptions};
use chapmark::report;
use chapmark::validate::{Profile, Target};

pub fn run(args: ConvertArgs, ui: Ui) -> Outcome {
    let loaded = common::load_chapters(&args.input, args.from)?;
    let duration = args
        .duration
        .as_deref()
        .map(parse_duration_arg)
        .transpose()?;
    // A converted file is a sidecar; only errors that make the list meaningless stop it
    // (impossible timestamps, disorder, an empty list). Platform advice is `check`'s job.
    let ctx = common::context(duration, Profile::Default, Some(Target::Sidecar));
    let report = common::validate_report(loaded.name.clone(), None, &loaded.parsed, &ctx);
    if !report::passed(&report.diagnostics, false) {
        common::print_rejection(ui, &report, false);
        return Ok(ExitStatus::Invalid);
    }
    common::print_warnings(ui, &report);
    let opts = WriteOptions::with_duration(duration.map(|d| d.to_time_round()));
    let bytes = format::write(args.to, &loaded.parsed.list, &opts);
    emit(args.output.as_deref(), &bytes)?;
    Ok(ExitStatus::Ok)
}
