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
    /// Seconds to wait for another chapmark process working on the same file (0: fail at once).
    #[arg(long, global = true, value_name = "SECS", default_value_t = 300)]
    pub lock_timeout: u64,
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
    /// Print a shell completion script (`chapmark completions bash > …`).
    Completions(CompletionsArgs),
    /// Print the man page (roff; `chapmark man | man -l -`), or write one page per command.
    Man(ManArgs),
    /// List a feed's items and chapter sources, or add chapters.json links to it.
    Feed(FeedArgs),
    /// Draw the waveform with chapter marks and diagnostics (PNG or SVG).
    Plot(PlotArgs),
    /// Move chapters onto a re-edited or re-encoded episode by matching its audio.
    Remap(RemapArgs),
    /// Edit chapters in the browser: waveform, playback, live validation, Save.
    Edit(EditArgs),
}

/// `chapmark feed`.
#[derive(Debug, Args)]
pub struct FeedArgs {
    /// The RSS feed.
    pub feed: PathBuf,
    /// Write each item's chapters to DIR/<item>.json and print the feed with a
    /// `<podcast:chapters>` link added to each of those items.
    #[arg(long, requires = "base_url")]
    pub emit_json: Option<PathBuf>,
    /// The URL DIR is published at (the links are BASE_URL/<item>.json).
    #[arg(long, requires = "emit_json")]
    pub base_url: Option<String>,
    /// Write the feed here instead of standard output (atomically).
    #[arg(short, long, requires = "emit_json")]
    pub output: Option<PathBuf>,
}

/// `chapmark man`.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write `chapmark.1` and `chapmark-COMMAND.1` into this folder instead of printing
    /// `chapmark.1`.
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

/// `chapmark completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Shells `chapmark completions` writes scripts for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    /// Bash (`source <(chapmark completions bash)`).
    Bash,
    /// Zsh (a `_chapmark` file in a folder of `$fpath`).
    Zsh,
    /// Fish (`~/.config/fish/completions/chapmark.fish`).
    Fish,
    /// PowerShell (`chapmark completions powershell | Out-String | Invoke-Expression`).
    Powershell,
    /// Elvish.
    Elvish,
}

/// ID3v2 versions `write --id3v2` can produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Id3Version {
    /// ID3v2.3: what every podcast app and ffmpeg read.
    #[value(name = "3")]
    V3,
    /// ID3v2.4.
    #[value(name = "4")]
    V4,
}

impl Id3Version {
    /// The minor version number (3 or 4).
    pub fn number(self) -> u8 {
        match self {
            Id3Version::V3 => 3,
            Id3Version::V4 => 4,
        }
    }
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
    /// INPUT is an RSS feed: read this item's chapters (by guid, or title) — its
    /// `<psc:chapters>`, else its description.
    #[arg(long)]
    pub item: Option<String>,
    /// Drop chapters whose title matches this regular expression (editor markers that are
    /// notes, e.g. `(?i)^(edit|fix|todo)`); names starting with `//` are always dropped.
    #[arg(long, value_name = "REGEX")]
    pub skip_markers: Option<String>,
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
#[command(group(clap::ArgGroup::new("chapter_input").args(["chapters", "chapters_arg"])))]
pub struct CheckArgs {
    /// The episode audio (omit with `--duration`).
    #[arg(required_unless_present = "duration")]
    pub audio: Option<PathBuf>,
    /// Chapters to check, as a second argument (same as `--chapters`).
    #[arg(value_name = "CHAPTERS")]
    pub chapters_arg: Option<PathBuf>,
    /// Chapters to check (show notes or a chapter file); without it, the chapters embedded in
    /// the audio are checked. Repeat to compare sources: `drift` is reported between every
    /// two of them (and the file's embedded chapters), with both values.
    #[arg(long, short = 'c')]
    pub chapters: Vec<PathBuf>,
    /// Also compare the chapter sources of one feed item (`--item`): its PSC and its
    /// description.
    #[arg(long, requires = "item")]
    pub feed: Option<PathBuf>,
    /// The feed item (guid or title) for `--feed`.
    #[arg(long, requires = "feed")]
    pub item: Option<String>,
    /// Check against a stated length instead of audio (`38:00`, `1:02:03.500`, or seconds
    /// such as `2280` or ffprobe's `2280.000000`); needs `--chapters`.
    #[arg(long, conflicts_with = "audio", requires = "chapter_input")]
    pub duration: Option<String>,
    /// Check the list as `write --intro TITLE` would write it (a chapter at 0:00 added when
    /// the first starts later), so notes without an intro match a file written with one.
    #[arg(long, requires = "chapter_input")]
    pub intro: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
    /// Suggest moving each chapter start to the nearest pause within this window (default
    /// 2s; `1.5s`, `500ms`): decodes only the audio around each start.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "2s", value_name = "WINDOW")]
    pub snap: Option<String>,
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
    /// Chapters to write, as a second argument (same as `--chapters`).
    #[arg(value_name = "CHAPTERS", required_unless_present = "chapters")]
    pub chapters_arg: Option<PathBuf>,
    /// Chapters to write (show notes or a chapter file; `-` for standard input).
    #[arg(long, short = 'c', conflicts_with = "chapters_arg")]
    pub chapters: Option<PathBuf>,
    /// Write the result here instead of changing AUDIO.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// ID3v2 version for MP3 (default: 2.3, or keep an existing v2.4 tag when ffmpeg can read
    /// every chapter of it).
    #[arg(long, value_enum)]
    pub id3v2: Option<Id3Version>,
    /// Insert a chapter with this title at 0:00 when the first chapter starts later.
    #[arg(long)]
    pub intro: Option<String>,
    /// Also write chapter descriptions (ID3 `TIT3`) when the notes have them.
    #[arg(long)]
    pub descriptions: bool,
    /// MP4 chapter forms to write.
    #[arg(long, value_enum, default_value_t = Mp4ChaptersArg::Both)]
    pub mp4_chapters: Mp4ChaptersArg,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub fetch: FetchOpts,
    /// Validate and print what would be written, without writing.
    #[arg(long)]
    pub dry_run: bool,
    /// Measure an MP3 by walking every frame even when its LAME/Xing header proves the length.
    #[arg(long)]
    pub verify: bool,
    /// Move each chapter start that is in sound to the nearest pause within this window (default
    /// 2s; `1.5s`, `500ms`): with `--dry-run`, prints the moves.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "2s", value_name = "WINDOW")]
    pub snap: Option<String>,
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
    /// Write embedded chapter images into this folder (`chapter-01.jpg` …) and name those
    /// files as the chapters' images; without it an image is summarised (`image/jpeg 308 bytes`).
    #[arg(long, value_name = "DIR")]
    pub images: Option<PathBuf>,
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
    /// Process only shard K of N (`1/4`), a stable split for CI matrices and job arrays; `auto`
    /// reads K and N from a Kubernetes indexed Job, an AWS Batch array job or a Slurm array.
    #[arg(long, value_name = "K/N|auto")]
    pub shard: Option<String>,
    /// With `--shard auto`: the number of shards where the runner does not say (a Kubernetes
    /// indexed Job's completions).
    #[arg(long, value_name = "N", requires = "shard")]
    pub shard_count: Option<u32>,
    /// Where each episode's chapters are, e.g. `{dir}/{stem}.chapters.json`.
    #[arg(long)]
    pub chapters_pattern: Option<String>,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub fetch: FetchOpts,
    /// Remap each episode's chapters from its old version under this folder (same relative
    /// path; its embedded chapters, else its sidecar) by matching the audio, as `remap`.
    #[arg(long, conflicts_with = "chapters_pattern")]
    pub remap_from: Option<PathBuf>,
    /// Insert a chapter with this title at 0:00 when the first chapter starts later.
    #[arg(long)]
    pub intro: Option<String>,
    /// Also draw one picture per episode (PNG, as `chapmark plot`) into this directory.
    #[arg(long, value_name = "DIR")]
    pub plot: Option<PathBuf>,
    /// Measure each MP3 by walking every frame even when its LAME/Xing header proves the length.
    #[arg(long)]
    pub verify: bool,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub validate: ValidateOpts,
}

impl CheckArgs {
    /// The chapters files, given either way (none: check the embedded chapters); the
    /// positional one first.
    pub fn chapter_paths(&self) -> impl Iterator<Item = &std::path::Path> {
        self.chapters_arg
            .iter()
            .chain(self.chapters.iter())
            .map(PathBuf::as_path)
    }
}

impl WriteArgs {
    /// The chapters file, given either way.
    pub fn chapters_path(&self) -> &std::path::Path {
        self.chapters
            .as_deref()
            .or(self.chapters_arg.as_deref())
            .unwrap_or(std::path::Path::new("-"))
    }
}

/// `chapmark plot`.
#[derive(Debug, Args)]
pub struct PlotArgs {
    /// The episode audio.
    pub audio: PathBuf,
    /// Chapters to draw (show notes or a chapter file); without it, the embedded ones.
    #[arg(long, short = 'c')]
    pub chapters: Option<PathBuf>,
    /// The picture to write: `.png` or `.svg`.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Picture width in pixels.
    #[arg(long, default_value_t = 1600, value_parser = clap::value_parser!(u32).range(400..=16000))]
    pub width: u32,
    /// Also draw suggested snaps to pauses within this window (default 2s).
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "2s", value_name = "WINDOW")]
    pub snap: Option<String>,
    /// Decode the audio again instead of using (and writing) the `AUDIO.peaks` cache.
    #[arg(long)]
    pub no_cache: bool,
}

/// `chapmark edit`.
#[derive(Debug, Args)]
pub struct EditArgs {
    /// The episode audio; Save writes the chapters into it.
    pub audio: PathBuf,
    /// Chapters to start from (show notes or a chapter file); without it, the embedded ones.
    #[arg(long, short = 'c')]
    pub chapters: Option<PathBuf>,
    /// Print the editor's address but do not open a browser.
    #[arg(long)]
    pub no_open: bool,
    /// The validation profile selected when the page opens (changeable there).
    #[arg(long, value_enum, default_value_t = Profile::Default)]
    pub profile: Profile,
    /// Port on 127.0.0.1 (default: a free one chosen by the system).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
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

/// `--fetch-images` and its time limit (`write`, `batch`).
#[derive(Debug, Args)]
pub struct FetchOpts {
    /// Download the chapters' `http(s)` images to embed them (each at most 2 MiB, JPEG or
    /// PNG); without it they stay links (in an MP3, an `APIC` holding the URL).
    #[arg(long)]
    pub fetch_images: bool,
    /// With `--fetch-images`: give up on an image after this many seconds.
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 20,
        requires = "fetch_images"
    )]
    pub fetch_timeout: u64,
}
