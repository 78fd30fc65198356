//! Who may talk to the editor, and what they may ask for.
//!
//! A server on 127.0.0.1 is reachable by every local user and, through the browser, by
//! every web page: a page can make the browser send requests to it (CSRF), or point a name
//! it controls at 127.0.0.1 (DNS rebinding). So every request must carry the per-run token
//! (only the URL we printed knows it), name our exact address in `Host` (a rebound name
//! does not), and come from no other origin. Paths are a fixed table: nothing on disk is
//! reachable by name except the episode and its chapter file.

/// What a request must match: the server's port, the run's token, the two file names.
#[derive(Debug, Clone, Default)]
pub struct Allowed {
    /// The port we listen on (the only `Host` accepted).
    pub port: u16,
    /// The per-run secret every request must carry.
    pub token: String,
    /// The episode's file name (served at `/media/NAME`).
    pub audio_name: String,
    /// The `--chapters` file's name, when there is one.
    pub chapters_name: Option<String>,
}

/// What a request may reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// The page.
    Index,
    /// A compiled-in script or style sheet.
    Asset(&'static str),
    /// The episode.
    Audio,
    /// The `--chapters` file.
    Chapters,
    /// A JSON call.
    Api(String),
}

/// Why a request was refused: HTTP status and a short reason.
pub type Refusal = (u16, &'static str);

/// The request's parts the checks look at.
pub struct Parts<'a> {
    /// Path and query as sent.
    pub url: &'a str,
    /// `Host`.
    pub host: Option<&'a str>,
    /// `Origin`.
    pub origin: Option<&'a str>,
    /// `X-Chapmark-Token`.
    pub token_header: Option<&'a str>,
}

/// Admits a request or says why not.
pub fn admit(s: &Allowed, req: &Parts<'_>) -> Result<Route, Refusal> {
    let ours = [
        format!("127.0.0.1:{}", s.port),
        format!("localhost:{}", s.port),
    ];
    match req.host {
        Some(h) if ours.iter().any(|o| o.eq_ignore_ascii_case(h)) => {}
        _ => return Err((403, "host not allowed")),
    }
    if let Some(origin) = req.origin {
        let same = ours
            .iter()
            .any(|o| origin.eq_ignore_ascii_case(&format!("http://{o}")));
        if !same {
            return Err((403, "origin not allowed"));
        }
    }
    let (path, query) = req.url.split_once('?').unwrap_or((req.url, ""));
    let token = req.token_header.or_else(|| query_value(query, "token"));
    if !token.is_some_and(|t| same_secret(t, &s.token)) {
        return Err((403, "missing or wrong token"));
    }
    route(s, path)
}

/// The route of a path, refusing anything that tries to leave the table.
fn route(s: &Allowed, path: &str) -> Result<Route, Refusal> {
    const OUTSIDE: Refusal = (403, "path outside the episode");
    let decoded = percent_decode(path).ok_or((400, "bad path encoding"))?;
    if decoded.contains("..") || decoded.contains('\\') || decoded.contains('\0') {
        return Err(OUTSIDE);
    }
    match decoded.as_str() {
        "/" | "/index.html" => return Ok(Route::Index),
        "/editor.js" => return Ok(Route::Asset("editor.js")),
        "/editor.css" => return Ok(Route::Asset("editor.css")),
        _ => {}
    }
    if let Some(name) = decoded.strip_prefix("/media/") {
        if name == s.audio_name {
            return Ok(Route::Audio);
        }
        if s.chapters_name.as_deref() == Some(name) {
            return Ok(Route::Chapters);
        }
        return Err(OUTSIDE);
    }
    if let Some(call) = decoded.strip_prefix("/api/")
        && !call.is_empty()
        && call.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
    {
        return Ok(Route::Api(call.to_string()));
    }
    Err(OUTSIDE)
}

/// The first value of `key` in a query string (raw: the token is hex).
fn query_value<'a>(query: &'a str, key: &str) -> Option<&'a str> {
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v)
}

/// Compares without stopping at the first difference, so timing says nothing about the
/// token.
fn same_secret(given: &str, token: &str) -> bool {
    let (a, b) = (given.as_bytes(), token.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `%XX` decoded, as UTF-8; `None` for a broken escape or invalid UTF-8.
pub fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> Allowed {
        Allowed {
            port: 4321,
            token: "abc123".into(),
            audio_name: "ep.m4a".into(),
            chapters_name: Some("ep.txt".into()),
        }
    }

    fn parts<'a>(url: &'a str, host: &'a str, origin: Option<&'a str>) -> Parts<'a> {
        Parts {
            url,
            host: Some(host),
            origin,
            token_header: None,
        }
    }

    #[test]
    fn admits_the_page_with_the_token() {
        let s = session();
        let ok = admit(&s, &parts("/?token=abc123", "127.0.0.1:4321", None));
        assert_eq!(ok, Ok(Route::Index));
        let ok = admit(
            &s,
            &parts("/media/ep.m4a?token=abc123", "localhost:4321", None),
        );
        assert_eq!(ok, Ok(Route::Audio));
        let ok = admit(
            &s,
            &parts(
                "/api/save?token=abc123",
                "127.0.0.1:4321",
                Some("http://127.0.0.1:4321"),
            ),
        );
        assert_eq!(ok, Ok(Route::Api("save".into())));
    }

    #[test]
    fn refuses_without_token_foreign_host_or_origin() {
        let s = session();
        let no_token = admit(&s, &parts("/", "127.0.0.1:4321", None));
        assert_eq!(no_token, Err((403, "missing or wrong token")));
        let wrong = admit(&s, &parts("/?token=abc124", "127.0.0.1:4321", None));
        assert_eq!(wrong, Err((403, "missing or wrong token")));
        let rebound = admit(&s, &parts("/?token=abc123", "evil.example:4321", None));
        assert_eq!(rebound, Err((403, "host not allowed")));
        let other_port = admit(&s, &parts("/?token=abc123", "127.0.0.1:80", None));
        assert_eq!(other_port, Err((403, "host not allowed")));
        let foreign = parts(
            "/?token=abc123",
            "127.0.0.1:4321",
            Some("http://evil.example"),
        );
        assert_eq!(admit(&s, &foreign), Err((403, "origin not allowed")));
        let null = parts("/?token=abc123", "127.0.0.1:4321", Some("null"));
        assert_eq!(admit(&s, &null), Err((403, "origin not allowed")));
    }

    #[test]
    fn refuses_paths_outside_the_episode() {
        let s = session();
        for url in [
            "/../Cargo.toml",
            "/media/../ep.m4a",
            "/media/%2e%2e/etc/passwd",
            "/media/%2E%2E%2Fsecret",
            "/media/other.mp3",
            "/etc/passwd",
            "//etc/passwd",
            "/media/ep.m4a%00",
            "/api/../media/ep.m4a",
        ] {
            let got = admit(
                &s,
                &parts(&format!("{url}?token=abc123"), "127.0.0.1:4321", None),
            );
            assert!(matches!(got, Err((403 | 400, _))), "{url}: {got:?}");
        }
    }
}
