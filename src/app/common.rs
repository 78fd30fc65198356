//! Steps several commands share: loading chapters, probing audio, reading embedded chapters,
//! and presenting diagnostics.

use super::Ui;
use super::io::{display_name, read_text_input, usage};
use anyhow::Context as _;
use chapmark::container::id3v2 as id3;
use chapmark::format::Format;
use chapmark::format::text::Parsed;
use chapmark::format::timestamp::parse_timestamp;
use chapmark::probe::{self, Container, ProbeInfo};
use chapmark::report::{self, FileReport};
use chapmark::validate::{self, Context, Diagnostic, Profile, Target};
use chapmark::{ChapterList, SampleTime, Time};
use std::path::Path;

/// Chapters loaded from a file, with the name to show in messages.
pub struct Loaded {
    pub name: String,
    pub parsed: Parsed,
}

/// Reads and parses a chapters input (show notes or any chapter file; `-` is stdin).
pub fn load_chapters(path: &Path, from: Option<Format>) -> anyhow::Result<Loaded> {
    let name = display_name(path);
    let bytes = read_text_input(path)?;
    let (fmt, parsed) =
        chapmark::format::read_any(&bytes, from).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
    log::info!(
        "{name}: read {} chapters ({})",
        parsed.list.len(),
        fmt.name()
    );
    Ok(Loaded { name, parsed })
}

/// Loads the local image files the chapters at `path` name (relative to its folder) and
/// returns `image-missing` errors for those that cannot be read. Standard input's relative
/// paths resolve against the working directory.
pub fn load_images(loaded: &mut Loaded, path: &Path) -> Vec<Diagnostic> {
    let base = match path.parent() {
        _ if path == Path::new("-") => None,
        Some(p) if !p.as_os_str().is_empty() => Some(p),
        _ => None,
    };
    let list = &mut loaded.parsed.list;
    let failures = chapmark::image::load_images(list, base);
    chapmark::validate::missing_images(list, &failures)
}

/// With `--fetch-images` (`fetch`), downloads the chapters' `http(s)` images and returns
/// `image-fetch-failed` errors for those that cannot be fetched; otherwise nothing.
pub fn fetch_images(loaded: &mut Loaded, fetch: &crate::cli::FetchOpts) -> Vec<Diagnostic> {
    if !fetch.fetch_images {
        return Vec::new();
    }
    let mut opts = chapmark::image::FetchOptions::default();
    opts.timeout = std::time::Duration::from_secs(fetch.fetch_timeout);
    let list = &mut loaded.parsed.list;
    let failures = chapmark::image::fetch_images(list, &opts);
    chapmark::validate::missing_images(list, &failures)
}

/// Measures the audio's exact length (the caller holds the lock). A path that does not
/// exist is named as the audio input, so a typo is not mistaken for a problem with the
/// chapters file.
pub fn probe_audio(path: &Path) -> anyhow::Result<ProbeInfo> {
    probe_audio_with(path, probe::ProbeOptions::VERIFY)
}

/// [`probe_audio`] for a write: an MP3 whose LAME/Xing header proves its length is not
/// walked unless `verify` (the `--verify` flag).
pub fn probe_for_write(path: &Path, verify: bool) -> anyhow::Result<ProbeInfo> {
    probe_audio_with(path, probe::ProbeOptions::for_write(verify))
}

fn probe_audio_with(path: &Path, opts: probe::ProbeOptions) -> anyhow::Result<ProbeInfo> {
    if let Err(e) = std::fs::symlink_metadata(path)
        && e.kind() == std::io::ErrorKind::NotFound
    {
        anyhow::bail!("audio file {}: not found", path.display());
    }
    Ok(probe::probe_path_with(path, opts)?)
}

/// Parses a `--duration` argument: a timestamp (`38:00`, `1:02:03.500`) or seconds (`2280`,
/// `2280.5`, ffprobe's `2280.000000`), floored to the millisecond. Zero is refused: no chapter
/// fits in no audio, so it is a mistake (an empty variable in a script), not a length.
pub fn parse_duration_arg(s: &str) -> anyhow::Result<SampleTime> {
    let trimmed = s.trim();
    let t = match parse_seconds(trimmed) {
        Some(t) => t,
        None => parse_timestamp(trimmed).map_err(|e| usage(format!("--duration {s:?}: {e}")))?,
    };
    if t == Time::ZERO {
        return Err(usage(format!(
            "--duration {s:?}: the length must be more than zero"
        )));
    }
    Ok(SampleTime::new(t.as_millis(), 1000))
}

/// Plain seconds with an optional decimal fraction (`2280`, `2280.000000`), floored to the
/// millisecond; `None` when `s` is not that shape or overflows.
fn parse_seconds(s: &str) -> Option<Time> {
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(frac) {
        return None;
    }
    let secs: u64 = whole.parse().ok()?;
    let ms = frac
        .bytes()
        .chain(std::iter::repeat(b'0'))
        .take(3)
        .fold(0u64, |acc, b| acc * 10 + u64::from(b - b'0'));
    Time::from_hmsm(0, 0, secs, ms)
}

/// The ID3v2 version a default-or-`--id3v2` write of `list` gives an MP3's tag.
pub fn planned_id3_version(
    audio: &Path,
    list: &ChapterList,
    version: Option<u8>,
    descriptions: bool,
) -> anyhow::Result<u8> {
    let opts = id3::Id3Options {
        version,
        descriptions,
        ..id3::Id3Options::default()
    };
    Ok(id3::write_version(audio, list, &opts)?)
}

/// Diagnostics about the file rather than the list: an extension naming another container
/// (`extension-mismatch`), an MP4's chapter images that cannot all be stored
/// (`image-track-skipped`), and for an MP3 whose tag is or will be ID3v2.4 (`id3_version`),
/// chapters ffmpeg will not list (`ffmpeg-drops-chapter`). Added to `diags` in the
/// validator's order (whole-file first, then by line and chapter).
pub fn add_file_diagnostics(
    diags: &mut Vec<Diagnostic>,
    audio: &Path,
    container: Container,
    list: &ChapterList,
    id3_version: Option<u8>,
    descriptions: bool,
    profile: Profile,
) {
    diags.extend(validate::extension_mismatch(audio, container, profile));
    if container == Container::Mp4 {
        diags.extend(validate::image_track_skipped(list));
    }
    if container == Container::Mp3 && id3_version == Some(4) {
        diags.extend(validate::ffmpeg_drops_chapter(list, descriptions, profile));
    }
    diags.sort_by_key(|d| (d.line.is_some() || d.chapter.is_some(), d.line, d.chapter));
}

/// Under the default profile a first chapter after 0:00 is valid (players seek to any
/// chapter), but Apple Podcasts, Spotify and YouTube list chapters only when one starts at
/// 0:00: say so once, as a note on stderr that changes no exit code or report.
pub fn note_first_after_zero(ui: Ui, profile: Profile, intro: Option<&str>, list: &ChapterList) {
    if ui.quiet || profile != Profile::Default || intro.is_some() {
        return;
    }
    let Some(first) = list.chapters.first().filter(|c| c.start > Time::ZERO) else {
        return;
    };
    eprintln!(
        "chapmark: note: the first chapter starts at {}; Apple Podcasts, Spotify and YouTube \
         show chapters only when one starts at 0:00 (add one, or write with --intro \"Intro\")",
        first.written_timestamp()
    );
}

/// Builds the validation context.
pub fn context(duration: Option<SampleTime>, profile: Profile, target: Option<Target>) -> Context {
    Context {
        duration,
        profile,
        target,
        ..Context::default()
    }
}

/// Prints a failed validation to stderr (text), for commands whose stdout carries data.
pub fn print_rejection(ui: Ui, report: &FileReport, deny_warnings: bool) {
    eprint!(
        "{}",
        report::render_text(report, ui.color_err, deny_warnings)
    );
}

/// Prints warnings of a passing validation to stderr unless quiet.
pub fn print_warnings(ui: Ui, report: &FileReport) {
    if ui.quiet || report.warnings() == 0 {
        return;
    }
    eprint!("{}", report::render_text(report, ui.color_err, false));
}

/// Validates and packs the result into a report.
pub fn validate_report(
    path: String,
    source: Option<String>,
    parsed: &Parsed,
    ctx: &Context,
) -> FileReport {
    FileReport {
        path,
        source,
        duration: ctx.duration,
        diagnostics: parsed.validate(ctx),
        chapters: parsed.list.len(),
    }
}

/// Context for an I/O error on an output path.
pub fn write_context(path: &Path) -> impl FnOnce() -> String + '_ {
    move || format!("{}: cannot write", path.display())
}

/// Writes bytes to `out` atomically (temporary sibling + rename), or to stdout for `None`.
pub fn emit(out: Option<&Path>, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    match out {
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(bytes).context("standard output")?;
            stdout.flush().context("standard output")?;
        }
        Some(path) => {
            let dir = match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p,
                _ => Path::new("."),
            };
            let mut tmp = tempfile::NamedTempFile::new_in(dir).with_context(write_context(path))?;
            tmp.write_all(bytes).with_context(write_context(path))?;
            tmp.as_file().sync_all().with_context(write_context(path))?;
            tmp.persist(path)
                .map_err(|e| e.error)
                .with_context(write_context(path))?;
        }
    }
    Ok(())
}
