//! Command-line definitions (clap derive): the binary's interface. The library types it
//! names (`Format`, `Profile`) derive `clap::ValueEnum` only under the `cli` feature.

use chapmark::format::Format;
use chapmark::validate::Profile;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Exit codes shared by every command, so scripts and CI can tell a bad chapter list from a
/// bad invocation or an unreadable file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ExitStatus {
    /// Success (warnings allowed unless `--deny-warnings`).
    Ok = 0,
    /// The chapters are invalid: validation failed, nothing was written.
    Invalid = 1,
    /// Usage error (bad flags or arguments).
    Usage = 2,
    /// An input could not be read or is not a supported, well-formed file.
    Input = 3,
}

/// Podcast chapter markers: parse show notes, measure exact audio duration, validate, and
/// write ID3/MP4 chapters safely.
#[derive(Debug, Parser)]
#[command(name = "chapmark", version = env!("CHAPMARK_VERSION"), about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
    /// When to colour output.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Print more detail (repeat for debug logs).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Print only errors.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
}

/// Colour policy; `auto` colours a terminal unless `NO_COLOR` is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour when writing to a terminal and `NO_COLOR` is unset.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Convert chapters between show notes and chapter-file formats.
    Convert(ConvertArgs),
    /// Measure the exact playable duration of audio files.
    Probe(ProbeArgs),
    /// Check chapter timestamps against the audio and platform rules.
    Check(CheckArgs),
    /// Validate chapters, then write them into an MP3 or M4A file.
    Write(WriteArgs),
    /// Print the chapters embedded in an audio file.
    Show(ShowArgs),
    /// Remove embedded chapters from an audio file.
    Strip(StripArgs),
    /// Check or tag a whole archive of episodes in parallel.
    Batch(BatchArgs),
    /// Move chapters onto a re-edited or re-encoded episode by matching its audio.
    Remap(RemapArgs),
}

/// `chapmark convert`.
#[derive(Debug, Args)]
pub struct ConvertArgs {
    /// Chapters to read: show notes or any chapter file; `-` reads standard input.
    pub input: PathBuf,
    /// Force the input format instead of detecting it from the content.
    #[arg(long, value_enum)]
    pub from: Option<Format>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub to: Format,
    /// Write to this file instead of standard output (atomically).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// The episode length (`38:00`, `1:02:03.500`), used for the last chapter's end.
    #[arg(long)]
    pub duration: Option<String>,
}

/// `chapmark probe`.
#[derive(Debug, Args)]
pub struct ProbeArgs {
    /// Audio files.
    #[arg(required = true)]
    pub audio: Vec<PathBuf>,
    /// One JSON object per file (JSON Lines).
    #[arg(long)]
    pub json: bool,
}

/// Report formats for `check` and `batch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// For people (coloured on a terminal).
    Text,
    /// One JSON document.
    Json,
    /// GitHub Actions workflow commands.
    Github,
    /// JUnit XML.
    Junit,
}

/// Options shared by commands that validate.
#[derive(Debug, Clone, Args)]
pub struct ValidateOpts {
    /// Platform rule set to check against.
    #[arg(long, value_enum, default_value_t = Profile::Default)]
    pub profile: Profile,
    /// Treat warnings as errors for the exit code.
    #[arg(long)]
    pub deny_warnings: bool,
}

/// `chapmark check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The episode audio (omit with `--duration`).
    #[arg(required_unless_present = "duration")]
    pub audio: Option<PathBuf>,
    /// Chapters to check (show notes or a chapter file); without it, the chapters embedded in
    /// the audio are checked.
    #[arg(long, short = 'c')]
    pub chapters: Option<PathBuf>,
    /// Check against a stated length instead of audio (`38:00`, `1:02:03.500`, or seconds
    /// such as `2280` or ffprobe's `2280.000000`); needs `--chapters`.
    #[arg(long, conflicts_with = "audio", requires = "chapters")]
    pub duration: Option<String>,
    /// Check the list as `write --intro TITLE` would write it (a chapter at 0:00 added when
    /// the first starts later), so notes without an intro match a file written with one.
    #[arg(long, requires = "chapters")]
    pub intro: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub validate: ValidateOpts,
}

/// Which MP4 chapter forms to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Mp4ChaptersArg {
    /// Nero `chpl` only (ffmpeg, VLC, mutagen, MediaInfo).
    Nero,
    /// QuickTime chapter track only (Apple).
    Quicktime,
    /// Both (default).
    Both,
}

/// `chapmark write`.
#[derive(Debug, Args)]
pub struct WriteArgs {
    /// The MP3 or M4A episode to tag.
    pub audio: PathBuf,
    /// Chapters to write (show notes or a chapter file; `-` for standard input).
    #[arg(long, short = 'c')]
    pub chapters: PathBuf,
    /// Write the result here instead of changing AUDIO.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// ID3v2 version for MP3 (default: keep an existing v2.4 tag, else 2.3).
    #[arg(long, value_parser = clap::value_parser!(u8).range(3..=4))]
    pub id3v2: Option<u8>,
    /// Insert a chapter with this title at 0:00 when the first chapter starts later.
    #[arg(long)]
    pub intro: Option<String>,
    /// Also write chapter descriptions (ID3 `TIT3`) when the notes have them.
    #[arg(long)]
    pub descriptions: bool,
    /// MP4 chapter forms to write.
    #[arg(long, value_enum, default_value_t = Mp4ChaptersArg::Both)]
    pub mp4_chapters: Mp4ChaptersArg,
    /// Validate and print what would be written, without writing.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub validate: ValidateOpts,
}

/// `chapmark show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The audio file.
    pub audio: PathBuf,
    /// Output format (default: Podcasting 2.0 JSON with `endTime`).
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub to: Format,
}

/// `chapmark strip`.
#[derive(Debug, Args)]
pub struct StripArgs {
    /// The audio file.
    pub audio: PathBuf,
    /// Write the result here instead of changing AUDIO.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

/// `chapmark batch`.
#[derive(Debug, Args)]
pub struct BatchArgs {
    /// Directories to walk, audio files, or manifests (`.csv` / `.jsonl` of audio,chapters).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Validate only; write nothing.
    #[arg(long)]
    pub check: bool,
    /// Parallel jobs (default: number of cores).
    #[arg(long, short = 'j')]
    pub jobs: Option<usize>,
    /// Write a JSON Lines report, one record per episode.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Process only shard K of N (`1/4`), a stable split for CI matrices and job arrays.
    #[arg(long)]
    pub shard: Option<String>,
    /// Where each episode's chapters are, e.g. `{dir}/{stem}.chapters.json`.
    #[arg(long)]
    pub chapters_pattern: Option<String>,
    /// Remap each episode's chapters from its old version under this folder (same relative
    /// path; its embedded chapters, else its sidecar) by matching the audio, as `remap`.
    #[arg(long, conflicts_with = "chapters_pattern")]
    pub remap_from: Option<PathBuf>,
    /// Insert a chapter with this title at 0:00 when the first chapter starts later.
    #[arg(long)]
    pub intro: Option<String>,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub validate: ValidateOpts,
}

/// `chapmark remap`.
#[derive(Debug, Args)]
pub struct RemapArgs {
    /// The old audio, whose chapters are right (omit with `--edit`/`--shift`).
    #[arg(required_unless_present_any = ["edit", "shift"])]
    pub old: Option<PathBuf>,
    /// The new audio: re-edited, re-encoded, or both.
    #[arg(required_unless_present_any = ["edit", "shift"])]
    pub new: Option<PathBuf>,
    /// The old audio's chapters (show notes or a chapter file); default: those embedded in OLD.
    #[arg(long, short = 'c')]
    pub chapters: Option<PathBuf>,
    /// A known edit, in old time, instead of matching audio: `insert 03:00 30s`,
    /// `cut 06:00-06:20` (repeatable; needs `--chapters`).
    #[arg(long, requires = "chapters", conflicts_with_all = ["old", "new"])]
    pub edit: Vec<String>,
    /// Shift every chapter by this much (`+2.5s`, `-500ms`), with or without `--edit`.
    #[arg(long, requires = "chapters", conflicts_with_all = ["old", "new"], allow_hyphen_values = true)]
    pub shift: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub to: Format,
    /// Write the chapters to this file instead of standard output.
    #[arg(short, long, conflicts_with = "write")]
    pub output: Option<PathBuf>,
    /// Write the remapped chapters into NEW (validated, crash-safe) instead of printing them.
    #[arg(long, requires = "new")]
    pub write: bool,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub validate: ValidateOpts,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
