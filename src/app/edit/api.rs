//! Requests after the guard: the page, its assets, the media, and the JSON calls.
//!
//! The page sends its whole chapter list (times as typed) with every call; the server
//! parses, validates and writes with the library exactly as `check` and `write` do, so the
//! page holds no rules of its own.

use super::Session;
use super::guard::{self, Parts, Route};
use super::media::{self, header};
use chapmark::api::{self, EmbedOptions, ErrorKind};
use chapmark::format::timestamp::parse_timestamp;
use chapmark::format::{self, Format, WriteOptions};
use chapmark::validate::{Diagnostic, Profile, Rule, Severity};
use chapmark::{Chapter, ChapterList, Link, Time, report};
use serde::Deserialize;
use serde_json::{Value, json};
use std::io::Read;
use std::time::{Duration, Instant};
use tiny_http::{Method, Request, Response, ResponseBox};

const INDEX: &str = include_str!("assets/index.html");
const SCRIPT: &str = include_str!("assets/editor.js");
const STYLE: &str = include_str!("assets/editor.css");
/// Largest request body: a chapter list or pasted show notes, far below this.
const MAX_BODY: u64 = 4 * 1024 * 1024;
/// How long a request for the waveform waits for it to be computed.
const ENVELOPE_WAIT: Duration = Duration::from_secs(600);

/// One chapter as the page holds it.
#[derive(Debug, Deserialize)]
struct Row {
    /// As typed, in any notation `check` accepts.
    start: String,
    title: String,
    #[serde(default)]
    url: String,
    /// Index of the chapter it was loaded as, to keep what the page does not edit.
    #[serde(default)]
    orig: Option<usize>,
}

/// A call's body.
#[derive(Debug, Default, Deserialize)]
struct Call {
    #[serde(default)]
    chapters: Vec<Row>,
    #[serde(default)]
    profile: Option<String>,
    #[serde(default)]
    format: Option<String>,
    #[serde(default)]
    window: Option<String>,
    #[serde(default)]
    text: Option<String>,
}

/// Answers one request (on its own thread).
pub fn handle(s: &Session, mut req: Request) {
    let resp = respond(s, &mut req);
    if let Err(e) = req.respond(resp) {
        // The browser dropped a media stream it no longer needs: normal when seeking.
        log::debug!("editor: {e}");
    }
}

fn respond(s: &Session, req: &mut Request) -> ResponseBox {
    let get = |name: &'static str| {
        req.headers()
            .iter()
            .find(|h| h.field.equiv(name))
            .map(|h| h.value.as_str().to_owned())
    };
    let (host, origin, token, range) = (
        get("Host"),
        get("Origin"),
        get("X-Chapmark-Token"),
        get("Range"),
    );
    let parts = Parts {
        url: req.url(),
        host: host.as_deref(),
        origin: origin.as_deref(),
        token_header: token.as_deref(),
    };
    let route = match guard::admit(&s.allowed, &parts) {
        Ok(r) => r,
        Err((code, why)) => {
            log::info!("editor: refused {} {}: {why}", req.method(), req.url());
            return text(code, why);
        }
    };
    if route != Route::Api("bye".into()) {
        s.seen();
    }
    let method = req.method().clone();
    match (method, route) {
        (Method::Get, Route::Index) => {
            // The token is hex: safe to put in the page as is.
            let page = INDEX.replace("__TOKEN__", &s.allowed.token);
            secure(
                typed(
                    Response::from_data(page.into_bytes()),
                    "text/html; charset=utf-8",
                )
                .boxed(),
            )
        }
        (Method::Get, Route::Asset("editor.js")) => asset(SCRIPT, "text/javascript; charset=utf-8"),
        (Method::Get, Route::Asset(_)) => asset(STYLE, "text/css; charset=utf-8"),
        (Method::Get | Method::Head, Route::Audio) => {
            let mime = media::audio_mime(&s.allowed.audio_name);
            secure(media::serve(&s.audio, range.as_deref(), mime))
        }
        (Method::Get, Route::Chapters) => match &s.chapters {
            Some(path) => secure(media::serve(path, None, "text/plain; charset=utf-8")),
            None => text(404, "no chapter file"),
        },
        (Method::Get, Route::Api(call)) => get_call(s, &call),
        (Method::Post, Route::Api(call)) => match read_body(req) {
            Ok(body) => post_call(s, &call, &body),
            Err(resp) => resp,
        },
        _ => text(405, "method not allowed"),
    }
}

fn read_body(req: &mut Request) -> Result<Call, ResponseBox> {
    let mut bytes = Vec::new();
    let read = req.as_reader().take(MAX_BODY + 1).read_to_end(&mut bytes);
    if read.is_err() || bytes.len() as u64 > MAX_BODY {
        return Err(text(413, "request body too large or unreadable"));
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Call::default());
    }
    serde_json::from_slice(&bytes).map_err(|e| text(400, &format!("bad request body: {e}")))
}

fn get_call(s: &Session, call: &str) -> ResponseBox {
    match call {
        "state" => reply(200, &state(s)),
        "peaks" => peaks(s),
        _ => text(404, "no such call"),
    }
}

fn post_call(s: &Session, call: &str, body: &Call) -> ResponseBox {
    match call {
        "check" => check(s, body),
        "paste" => paste(s, body),
        "save" => save(s, body),
        "export" => export(s, body),
        "snaps" => snaps(s, body),
        "reload" => reload(s),
        "heartbeat" => text(200, "ok"),
        "bye" => {
            s.bye();
            text(200, "bye")
        }
        _ => text(404, "no such call"),
    }
}

/// What the page starts from: the episode, the chapters, the choices it offers.
fn state(s: &Session) -> Value {
    let base = lock_base(s);
    let profiles: Vec<&str> = Profile::ALL.iter().map(|p| p.name()).collect();
    let formats: Vec<Value> = format::FORMATS
        .iter()
        .map(|f| json!({ "name": f.name, "extension": f.format.extension() }))
        .collect();
    json!({
        "audio": s.allowed.audio_name,
        "chaptersFile": s.allowed.chapters_name,
        "container": s.info.container.name(),
        "durationMs": s.info.duration.to_time_floor().as_millis(),
        "duration": s.info.duration.to_time_floor().hms_millis(),
        "profile": s.profile.name(),
        "profiles": profiles,
        "formats": formats,
        "chapters": rows_of(&base, true, hours(s)),
    })
}

/// Whether times are shown with hours (one width for the whole list).
fn hours(s: &Session) -> bool {
    s.info.duration.to_time_floor() >= Time::from_secs(3600)
}

fn lock_base(s: &Session) -> std::sync::MutexGuard<'_, ChapterList> {
    s.base
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The page's rows for `list`; `keep` links each row to its chapter in the base list.
fn rows_of(list: &ChapterList, keep: bool, hours: bool) -> Vec<Value> {
    list.chapters
        .iter()
        .enumerate()
        .map(|(i, c)| {
            json!({
                "start": c.start.clock(hours),
                "startMs": c.start.as_millis(),
                "title": c.title,
                "url": c.url().unwrap_or(""),
                "orig": keep.then_some(i),
            })
        })
        .collect()
}

/// The waveform in per-mille (small JSON), once the background thread has it.
fn peaks(s: &Session) -> ResponseBox {
    let started = Instant::now();
    let env = loop {
        if let Some(e) = s.envelope.get() {
            break e;
        }
        if started.elapsed() > ENVELOPE_WAIT {
            return text(503, "the waveform is still being computed");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    match env {
        Ok(env) => {
            let mille = |v: &Vec<f32>| -> Vec<u16> {
                v.iter()
                    .map(|x| (x.clamp(0.0, 1.0) * 1000.0).round() as u16)
                    .collect()
            };
            let body = json!({
                "durationMs": env.duration.to_time_floor().as_millis(),
                "peaks": mille(&env.peaks),
                "rms": mille(&env.rms),
            });
            reply(200, &body)
        }
        Err(e) => reply(500, &json!({ "message": e })),
    }
}

/// The rows as a chapter list, or the `bad-timestamp` errors of the rows that are not
/// times. Chapters loaded from the file keep their images, descriptions and link labels.
fn to_list(s: &Session, rows: &[Row]) -> Result<ChapterList, Vec<Diagnostic>> {
    list_of(&lock_base(s), rows)
}

/// [`to_list`] against the chapters the page was given.
fn list_of(base: &ChapterList, rows: &[Row]) -> Result<ChapterList, Vec<Diagnostic>> {
    let mut bad = Vec::new();
    let mut out = ChapterList {
        meta: base.meta.clone(),
        ..ChapterList::default()
    };
    for (i, row) in rows.iter().enumerate() {
        let start = match parse_timestamp(row.start.trim()) {
            Ok(t) => t,
            Err(e) => {
                bad.push(bad_start(i + 1, &row.start, &e.to_string()));
                continue;
            }
        };
        let old = row.orig.and_then(|k| base.chapters.get(k));
        let mut ch = old.cloned().unwrap_or_else(|| Chapter::new(start, ""));
        ch.start = start;
        ch.end = None;
        ch.origin = None;
        ch.title.clone_from(&row.title);
        let url = row.url.trim();
        ch.link = (!url.is_empty()).then(|| Link {
            url: url.to_string(),
            label: old
                .and_then(|c| c.link.as_ref())
                .filter(|l| l.url == url)
                .and_then(|l| l.label.clone()),
        });
        out.chapters.push(ch);
    }
    if bad.is_empty() { Ok(out) } else { Err(bad) }
}

fn bad_start(n: usize, typed: &str, why: &str) -> Diagnostic {
    Diagnostic {
        severity: Severity::Error,
        rule: Rule::BadTimestamp,
        chapter: Some(n),
        line: None,
        timestamp: Some(typed.to_string()),
        message: format!("chapter {n}: start `{typed}` is not a time: {why}"),
        hint: Some("write it as 1:02:03, 62:03, 1:02:03.500 or 3723s".into()),
    }
}

fn options(s: &Session, call: &Call) -> EmbedOptions {
    let mut opts = EmbedOptions::default();
    opts.profile = call
        .profile
        .as_deref()
        .and_then(|p| p.parse().ok())
        .unwrap_or(s.profile);
    opts
}

/// The diagnostics `write` would decide on, as `check` words them.
fn check(s: &Session, call: &Call) -> ResponseBox {
    let opts = options(s, call);
    let diagnostics = match to_list(s, &call.chapters) {
        Ok(list) => {
            let _writing = s.writing.lock();
            match api::validate_for_write(&s.audio, &s.info, &list, &opts) {
                Ok(d) => d,
                Err(e) => return reply(500, &json!({ "message": e.to_string() })),
            }
        }
        Err(bad) => bad,
    };
    // Each row's start as the page should draw it, even when another row is not a time.
    let starts: Vec<Option<u64>> = call
        .chapters
        .iter()
        .map(|r| parse_timestamp(r.start.trim()).ok().map(Time::as_millis))
        .collect();
    let mut body = verdict(&diagnostics);
    body["startsMs"] = json!(starts);
    reply(200, &body)
}

/// Diagnostics with their counts and whether a Save would go ahead.
fn verdict(diagnostics: &[Diagnostic]) -> Value {
    let count = |sev| diagnostics.iter().filter(|d| d.severity == sev).count();
    json!({
        "diagnostics": diagnostics,
        "errors": count(Severity::Error),
        "warnings": count(Severity::Warning),
        "passed": report::passed(diagnostics, false),
    })
}

/// Show notes or any chapter file, read as `check` reads them.
fn paste(s: &Session, call: &Call) -> ResponseBox {
    let text = call.text.as_deref().unwrap_or("");
    match format::read_any(text.as_bytes(), None) {
        Ok((fmt, parsed)) => reply(
            200,
            &json!({
                "format": fmt.name(),
                "chapters": rows_of(&parsed.list, false, hours(s)),
                "skipped": parsed.issues.len(),
            }),
        ),
        Err(e) => reply(422, &json!({ "message": e.to_string() })),
    }
}

/// Writes the chapters into the episode as `write` does, then reads back what it holds.
fn save(s: &Session, call: &Call) -> ResponseBox {
    let list = match to_list(s, &call.chapters) {
        Ok(l) => l,
        Err(bad) => return refused(s, &bad),
    };
    let opts = options(s, call);
    let _writing = s.writing.lock();
    let written = match chapmark::write(&s.audio, &list, &opts) {
        Ok(w) => w,
        Err(e) if e.kind() == ErrorKind::Invalid => return refused(s, e.diagnostics()),
        Err(e) => return reply(500, &json!({ "saved": false, "message": e.to_string() })),
    };
    let back = match chapmark::read_embedded(&s.audio) {
        Ok(l) => l,
        Err(e) => return reply(500, &json!({ "saved": false, "message": e.to_string() })),
    };
    let rows = rows_of(&back, true, hours(s));
    *lock_base(s) = back;
    let mut body = verdict(&written.diagnostics);
    body["saved"] = json!(true);
    body["kind"] = json!(written.kind.to_string());
    body["message"] = json!(format!(
        "saved {} chapters to {}",
        rows.len(),
        s.allowed.audio_name
    ));
    body["chapters"] = json!(rows);
    reply(200, &body)
}

/// What the episode holds now (after a Save, or another program's change).
fn reload(s: &Session) -> ResponseBox {
    let _writing = s.writing.lock();
    match chapmark::read_embedded(&s.audio) {
        Ok(back) => {
            let rows = rows_of(&back, true, hours(s));
            *lock_base(s) = back;
            reply(200, &json!({ "chapters": rows }))
        }
        Err(e) => reply(500, &json!({ "message": e.to_string() })),
    }
}

fn refused(s: &Session, diagnostics: &[Diagnostic]) -> ResponseBox {
    let mut body = verdict(diagnostics);
    body["saved"] = json!(false);
    body["message"] = json!(format!(
        "not saved: the chapters have errors; {} was not changed",
        s.allowed.audio_name
    ));
    reply(422, &body)
}

/// Writes the chapters as a chapter file next to the episode (`EP.<extension>`), after
/// the same validation `convert` does against the audio.
fn export(s: &Session, call: &Call) -> ResponseBox {
    let fmt: Format = match call.format.as_deref().map(str::parse) {
        Some(Ok(f)) => f,
        _ => return reply(400, &json!({ "message": "unknown format" })),
    };
    let list = match to_list(s, &call.chapters) {
        Ok(l) => l,
        Err(bad) => return refused(s, &bad),
    };
    let diagnostics = chapmark::validate(&list, &s.info, &options(s, call).profile);
    if !report::passed(&diagnostics, false) {
        let mut body = verdict(&diagnostics);
        body["message"] = json!("not exported: the chapters have errors");
        return reply(422, &body);
    }
    let stem = s.audio.file_stem().map_or_else(
        || "chapters".to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let out = s
        .audio
        .with_file_name(format!("{stem}.{}", fmt.extension()));
    let opts = WriteOptions {
        duration: Some(s.info.duration.to_time_round()),
        audio_file: Some(s.allowed.audio_name.clone()),
    };
    let bytes = format::write(fmt, &list, &opts);
    let _writing = s.writing.lock();
    // Say so when an earlier file is replaced (the notes the list came from, perhaps).
    let replaced = if out.exists() {
        " (replaced the earlier file)"
    } else {
        ""
    };
    match super::super::common::emit(Some(&out), &bytes) {
        Ok(()) => {
            let message = format!("exported {}{replaced}", out.display());
            reply(200, &json!({ "message": message }))
        }
        Err(e) => reply(500, &json!({ "message": format!("{e:#}") })),
    }
}

/// Suggested moves onto pauses, as `check --snap` finds them.
fn snaps(s: &Session, call: &Call) -> ResponseBox {
    let list = match to_list(s, &call.chapters) {
        Ok(l) => l,
        Err(bad) => return refused(s, &bad),
    };
    let window = call.window.as_deref().unwrap_or("2s");
    match super::super::snap::suggest(&s.audio, Some(&s.info), &list, window) {
        Ok(snaps) => {
            let h = hours(s);
            let rows: Vec<Value> = snaps
                .iter()
                .map(|m| json!({ "index": m.index, "toMs": m.to.as_millis(), "to": m.to.clock(h) }))
                .collect();
            reply(200, &json!({ "snaps": rows }))
        }
        Err(e) => reply(400, &json!({ "message": format!("{e:#}") })),
    }
}

fn reply(status: u16, body: &Value) -> ResponseBox {
    let r = Response::from_data(body.to_string().into_bytes()).with_status_code(status);
    secure(typed(r, "application/json").boxed())
}

/// A short plain-text answer (refusals, acknowledgements).
pub fn text(status: u16, body: &str) -> ResponseBox {
    let r = Response::from_string(body).with_status_code(status);
    secure(typed(r, "text/plain; charset=utf-8").boxed())
}

fn asset(body: &'static str, mime: &str) -> ResponseBox {
    secure(typed(Response::from_data(body.as_bytes()), mime).boxed())
}

/// Adds `Content-Type` (our own ASCII constants: never skipped in practice).
fn typed<R: Read>(mut r: Response<R>, mime: &str) -> Response<R> {
    if let Some(h) = header("Content-Type", mime) {
        r.add_header(h);
    }
    r
}

/// Headers on every response: the page runs only its own script, talks only to us, is
/// never framed (clickjacking), and never sends the token-bearing URL elsewhere.
fn secure(mut r: ResponseBox) -> ResponseBox {
    for (name, value) in [
        (
            "Content-Security-Policy",
            "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
             media-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
        ),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "no-referrer"),
        ("X-Frame-Options", "DENY"),
        ("Cache-Control", "no-store"),
    ] {
        if let Some(h) = header(name, value) {
            r.add_header(h);
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(start: &str, title: &str, url: &str, orig: Option<usize>) -> Row {
        Row {
            start: start.into(),
            title: title.into(),
            url: url.into(),
            orig,
        }
    }

    #[test]
    fn rows_keep_what_the_page_does_not_edit() {
        let mut first = Chapter::new(Time::from_secs(0), "はじめに");
        first.description = Some("概要".into());
        first.link = Some(Link {
            url: "https://example.com/a".into(),
            label: Some("出典".into()),
        });
        first.end = Some(Time::from_secs(60));
        let base = ChapterList::new(vec![first, Chapter::new(Time::from_secs(60), "本題")]);
        let rows = [
            row("0:05", "はじめに(改)", "https://example.com/a", Some(0)),
            row("2:00.5", "新しい章", "", None),
            row("01:00", "本題", "https://example.com/b", Some(1)),
        ];
        let list = list_of(&base, &rows).unwrap();
        let first = &list.chapters[0];
        assert_eq!(first.start, Time::from_secs(5));
        assert_eq!(first.title, "はじめに(改)");
        assert_eq!(first.description.as_deref(), Some("概要"));
        assert_eq!(first.link.as_ref().unwrap().label.as_deref(), Some("出典"));
        assert_eq!(first.end, None, "ends follow the moved starts");
        assert_eq!(list.chapters[1].start, Time::from_millis(120_500));
        assert_eq!(list.chapters[1].link, None);
        let third = list.chapters[2].link.as_ref().unwrap();
        assert_eq!(
            (third.url.as_str(), third.label.as_deref()),
            ("https://example.com/b", None)
        );
    }

    #[test]
    fn rows_that_are_not_times_are_bad_timestamps() {
        let base = ChapterList::default();
        let rows = [row("0:00", "a", "", None), row("1:xx", "b", "", None)];
        let bad = list_of(&base, &rows).unwrap_err();
        assert_eq!(bad.len(), 1);
        assert_eq!(bad[0].rule, Rule::BadTimestamp);
        assert_eq!(bad[0].chapter, Some(2));
        assert!(
            bad[0]
                .message
                .starts_with("chapter 2: start `1:xx` is not a time"),
            "{}",
            bad[0].message
        );
    }
}
