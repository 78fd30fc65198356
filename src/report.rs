//! Rendering diagnostics for people and CI.
//!
//! Every renderer is a pure function from [`FileReport`]s to a `String`: the binary decides
//! where it goes and whether the terminal wants colour (TTY, `NO_COLOR`), so the library stays
//! testable and never prints. The same renderers serve `check` on one file and batch runs
//! over many: text, JSON and GitHub output are per file and concatenate; JUnit takes all files
//! at once because it wraps them in one `<testsuites>`.

use crate::time::SampleTime;
use crate::validate::{Diagnostic, Severity, format_length};
use serde_json::{Value, json};

/// The validation result for one audio (or chapter) file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FileReport {
    /// The file the user named (shown in summaries, JUnit suite names).
    pub path: String,
    /// The file the diagnostics' line numbers refer to, when it is not `path` (the show
    /// notes checked against an MP3). CI annotations point there.
    pub source: Option<String>,
    /// The exact audio length, when audio was probed.
    pub duration: Option<SampleTime>,
    /// Diagnostics from [`crate::validate::validate`] (and [`crate::validate::drift`]).
    pub diagnostics: Vec<Diagnostic>,
    /// Number of chapters checked.
    pub chapters: usize,
}

impl FileReport {
    /// Number of errors.
    pub fn errors(&self) -> usize {
        count(&self.diagnostics, Severity::Error)
    }

    /// Number of warnings.
    pub fn warnings(&self) -> usize {
        count(&self.diagnostics, Severity::Warning)
    }

    /// The file line numbers refer to.
    fn line_file(&self) -> &str {
        self.source.as_deref().unwrap_or(&self.path)
    }
}

fn count(diags: &[Diagnostic], severity: Severity) -> usize {
    diags.iter().filter(|d| d.severity == severity).count()
}

/// Whether a file passes: no errors, and no warnings either when the caller denies them.
/// The binary exits 1 when any file does not pass.
pub fn passed(diags: &[Diagnostic], deny_warnings: bool) -> bool {
    diags
        .iter()
        .all(|d| d.severity == Severity::Warning && !deny_warnings)
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

struct Paint {
    on: bool,
}

impl Paint {
    fn wrap(&self, code: &str, s: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    fn severity(&self, sev: Severity, s: &str) -> String {
        match sev {
            Severity::Error => self.wrap("1;31", s),
            Severity::Warning => self.wrap("1;33", s),
        }
    }
}

/// A producer-friendly summary: one line per file (`✓ episode.mp3: 3 chapters fit
/// 38:00.000`), then each diagnostic as `error[past-end] chapter 3 (line 14): …` with its
/// hint on the following line. ANSI colour only when `color` is true. `deny_warnings` decides
/// whether warnings turn the mark into `✗`, matching the exit code.
pub fn render_text(report: &FileReport, color: bool, deny_warnings: bool) -> String {
    let paint = Paint { on: color };
    let ok = passed(&report.diagnostics, deny_warnings);
    let (errors, warnings) = (report.errors(), report.warnings());
    let chapters = plural(report.chapters, "chapter");
    let mut out = String::new();

    let length = report.duration.map(|d| format_length(d.to_time_floor()));
    if ok {
        out.push_str(&paint.wrap("1;32", "✓"));
        out.push(' ');
        out.push_str(&report.path);
        out.push_str(": ");
        match &length {
            Some(l) => out.push_str(&format!("{chapters} fit {l}")),
            None => out.push_str(&format!("{chapters} ok (audio length not measured)")),
        }
        if warnings > 0 {
            out.push_str(&format!(", {}", plural(warnings, "warning")));
        }
    } else {
        out.push_str(&paint.wrap("1;31", "✗"));
        out.push(' ');
        out.push_str(&report.path);
        out.push_str(": ");
        out.push_str(&format!(
            "{}, {}",
            plural(errors, "error"),
            plural(warnings, "warning")
        ));
        if errors == 0 && deny_warnings {
            out.push_str(" (warnings denied)");
        }
        out.push_str(&format!(" in {chapters}"));
        if let Some(l) = &length {
            out.push_str(&format!("; the audio is {l}"));
        }
    }
    out.push('\n');

    for d in &report.diagnostics {
        let label = format!("{}[{}]", d.severity, d.rule.code());
        out.push_str("  ");
        out.push_str(&paint.severity(d.severity, &label));
        out.push(' ');
        out.push_str(&d.message);
        out.push('\n');
        if let Some(hint) = &d.hint {
            out.push_str("    ");
            out.push_str(&paint.wrap("36", "hint:"));
            out.push(' ');
            out.push_str(hint);
            out.push('\n');
        }
    }
    out
}

/// The JSON object for one file, for callers that collect several into an array.
///
/// Shape: `{"ok", "file", "source", "duration" (seconds or null), "chapters", "errors",
/// "warnings", "diagnostics": [{"severity", "code", "chapter", "line", "timestamp",
/// "message", "hint"}]}`. Seconds are the only `f64` in chapmark, at this output edge.
pub fn json_value(report: &FileReport, deny_warnings: bool) -> Value {
    json!({
        "ok": passed(&report.diagnostics, deny_warnings),
        "file": report.path,
        "source": report.source,
        "duration": report.duration.map(SampleTime::as_secs_f64),
        "chapters": report.chapters,
        "errors": report.errors(),
        "warnings": report.warnings(),
        "diagnostics": report.diagnostics,
    })
}

/// One file as pretty JSON (see [`json_value`] for the shape), newline-terminated.
pub fn render_json(report: &FileReport, deny_warnings: bool) -> String {
    let value = json_value(report, deny_warnings);
    // Serialising a `Value` cannot fail (all keys are strings).
    let mut s = serde_json::to_string_pretty(&value).unwrap_or_else(|_| "{}".to_string());
    s.push('\n');
    s
}

/// Escapes a workflow-command message the way GitHub's `@actions/core` does.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow-command property value: as data, plus `:` and `,`, which would
/// otherwise end the value.
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// GitHub Actions workflow commands, one line per diagnostic:
/// `::error file=notes.txt,line=14,title=past-end::chapter 3 (line 14): …`, so they show as
/// annotations on the pull request. The hint follows the message on a second annotation line.
/// A file without diagnostics produces no output (annotations are for problems).
pub fn render_github(report: &FileReport) -> String {
    let file = escape_property(report.line_file());
    let mut out = String::new();
    for d in &report.diagnostics {
        let mut props = format!("file={file}");
        if let Some(line) = d.line {
            props.push_str(&format!(",line={line}"));
        }
        props.push_str(&format!(",title={}", escape_property(d.rule.code())));
        let mut message = d.message.clone();
        if let Some(hint) = &d.hint {
            message.push_str("\nhint: ");
            message.push_str(hint);
        }
        out.push_str(&format!(
            "::{} {props}::{}\n",
            d.severity,
            escape_data(&message)
        ));
    }
    out
}

/// Escapes text for XML 1.0 content and attributes; characters XML 1.0 cannot carry at all
/// (most C0 controls) become U+FFFD so a hostile title cannot break the document.
pub(crate) fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

fn diag_line(d: &Diagnostic) -> String {
    let mut s = format!("{}[{}] {}", d.severity, d.rule.code(), d.message);
    if let Some(hint) = &d.hint {
        s.push_str("\nhint: ");
        s.push_str(hint);
    }
    s
}

/// JUnit XML for CI dashboards: one `<testsuite>` per file, one `<testcase>` for the list as
/// a whole (count rules, unreadable lines) and one per chapter. A testcase fails when it has
/// an error (or, with `deny_warnings`, a warning); the remaining warnings go to its
/// `<system-out>` so they are visible without failing the build.
pub fn render_junit(reports: &[FileReport], deny_warnings: bool) -> String {
    let fails = |d: &Diagnostic| d.severity == Severity::Error || deny_warnings;

    let mut suites = String::new();
    let (mut all_tests, mut all_failures) = (0usize, 0usize);
    for report in reports {
        let mut cases: Vec<Case<'_>> = Vec::with_capacity(report.chapters.saturating_add(1));
        cases.push(Case {
            name: "chapter list".to_string(),
            diags: Vec::new(),
        });
        for i in 1..=report.chapters {
            cases.push(Case {
                name: format!("chapter {i}"),
                diags: Vec::new(),
            });
        }
        for d in &report.diagnostics {
            let slot = d.chapter.filter(|&c| c <= report.chapters).unwrap_or(0);
            if let Some(case) = cases.get_mut(slot) {
                case.diags.push(d);
            }
        }
        let failures = cases
            .iter()
            .filter(|c| c.diags.iter().any(|d| fails(d)))
            .count();
        all_tests += cases.len();
        all_failures += failures;

        let name = xml_escape(&report.path);
        suites.push_str(&format!(
            "  <testsuite name=\"{name}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\">\n",
            cases.len()
        ));
        if let Some(d) = report.duration {
            suites.push_str(&format!(
                "    <properties>\n      <property name=\"duration\" value=\"{}\"/>\n    </properties>\n",
                format_length(d.to_time_floor())
            ));
        }
        for case in &cases {
            junit_case(&mut suites, &name, case, &fails);
        }
        suites.push_str("  </testsuite>\n");
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"chapmark\" tests=\"{all_tests}\" failures=\"{all_failures}\" errors=\"0\">\n{suites}</testsuites>\n"
    )
}

/// One JUnit testcase: the chapter list as a whole, or one chapter, with its diagnostics.
struct Case<'a> {
    name: String,
    diags: Vec<&'a Diagnostic>,
}

/// Appends one `<testcase>`: failing diagnostics in `<failure>`, the rest in `<system-out>`.
fn junit_case(
    out: &mut String,
    classname: &str,
    case: &Case<'_>,
    fails: &dyn Fn(&Diagnostic) -> bool,
) {
    out.push_str(&format!(
        "    <testcase classname=\"{classname}\" name=\"{}\"",
        xml_escape(&case.name)
    ));
    if case.diags.is_empty() {
        out.push_str("/>\n");
        return;
    }
    out.push_str(">\n");
    let failing: Vec<&&Diagnostic> = case.diags.iter().filter(|d| fails(d)).collect();
    if let Some(first) = failing.first() {
        let body: Vec<String> = failing.iter().map(|d| diag_line(d)).collect();
        out.push_str(&format!(
            "      <failure type=\"{}\" message=\"{}\">{}</failure>\n",
            first.rule.code(),
            xml_escape(&first.message),
            xml_escape(&body.join("\n"))
        ));
    }
    let rest: Vec<String> = case
        .diags
        .iter()
        .filter(|d| !fails(d))
        .map(|d| diag_line(d))
        .collect();
    if !rest.is_empty() {
        out.push_str(&format!(
            "      <system-out>{}</system-out>\n",
            xml_escape(&rest.join("\n"))
        ));
    }
    out.push_str("    </testcase>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_escaping_follows_actions_core() {
        assert_eq!(escape_data("50% done\r\nnext"), "50%25 done%0D%0Anext");
        assert_eq!(
            escape_property("dir,with:colons%\n.txt"),
            "dir%2Cwith%3Acolons%25%0A.txt"
        );
        // `%` is escaped first, so an existing escape sequence is not decoded by GitHub.
        assert_eq!(escape_data("%0A"), "%250A");
    }

    #[test]
    fn xml_escaping_covers_markup_and_controls() {
        assert_eq!(
            xml_escape("a<b>&\"c\" 'd'\u{1}\ne"),
            "a&lt;b&gt;&amp;&quot;c&quot; &apos;d&apos;\u{FFFD}&#10;e"
        );
        assert_eq!(xml_escape("日本語 ✓"), "日本語 ✓");
    }

    #[test]
    fn passed_respects_deny_warnings() {
        use crate::validate::Rule;
        let warn = Diagnostic {
            severity: Severity::Warning,
            rule: Rule::Gap,
            chapter: None,
            line: None,
            timestamp: None,
            message: "w".into(),
            hint: None,
        };
        let err = Diagnostic {
            severity: Severity::Error,
            ..warn.clone()
        };
        assert!(passed(&[], false));
        assert!(passed(&[], true));
        assert!(passed(std::slice::from_ref(&warn), false));
        assert!(!passed(std::slice::from_ref(&warn), true));
        assert!(!passed(&[err], false));
    }
}
