//! `chapmark edit`: a chapter editor in the browser, served from 127.0.0.1.
//!
//! One user, a handful of requests a second: a small synchronous server (`tiny_http`) is
//! enough, and an async runtime would be most of the binary's size for nothing. It listens
//! on loopback only, on a free port; every request passes [`guard`] first (per-run token,
//! `Host` = our address, no foreign `Origin`, only the episode and its chapter file). Each
//! request runs on its own thread, so streaming a three-hour episode to `<audio>` never
//! blocks a Save; writes are serialised by a mutex. The page's assets are compiled in.
//!
//! The server stops when the page says goodbye (`sendBeacon` on `pagehide`, unless the
//! page comes back within a few seconds, as a reload does), when its heartbeat stops, or
//! on Ctrl-C. It writes nothing but what the user saves or exports; an interrupted Save is
//! finished or rolled back by the next chapmark that opens the file, as for `write`.

mod api;
mod guard;
mod media;

use super::common;
use super::{Outcome, Ui};
use crate::cli::{EditArgs, ExitStatus};
use anyhow::Context as _;
use chapmark::ChapterList;
use chapmark::api::embed;
use chapmark::api::lock::{Access, prepare_audio};
use chapmark::audio::envelope::{CACHE_BUCKETS, Envelope, envelope_of};
use chapmark::probe::ProbeInfo;
use chapmark::validate::Profile;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// A page that has not been heard from for this long is gone. Generous: Chromium runs
/// the timers of a tab hidden for five minutes only once a minute.
const HEARTBEAT_TIMEOUT: Duration = Duration::from_secs(150);
/// After the page's goodbye, how long a reload has to come back before the server stops.
const BYE_GRACE: Duration = Duration::from_secs(3);

/// Everything the request handlers share.
pub struct Session {
    /// The episode (Save writes here).
    pub audio: PathBuf,
    /// `--chapters`, when given.
    pub chapters: Option<PathBuf>,
    /// The probe at start (container, exact length).
    pub info: ProbeInfo,
    /// The profile selected when the page opens.
    pub profile: Profile,
    /// What every request must match (port, token, the two file names).
    pub allowed: guard::Allowed,
    /// The chapters the page was given, so a Save keeps what the page does not edit
    /// (images, descriptions, link labels).
    pub base: Mutex<ChapterList>,
    /// One write at a time; held on exit so no Save is cut short by us.
    pub writing: Mutex<()>,
    /// The waveform, computed in the background so the page need not wait for it.
    pub envelope: OnceLock<Result<Envelope, String>>,
    life: Mutex<Life>,
}

/// When the page was last heard from, and whether it said goodbye.
#[derive(Default)]
struct Life {
    last_seen: Option<Instant>,
    bye_at: Option<Instant>,
}

impl Session {
    /// Any request from the page: it is alive (a reload after a goodbye cancels it).
    pub fn seen(&self) {
        if let Ok(mut life) = self.life.lock() {
            life.last_seen = Some(Instant::now());
            life.bye_at = None;
        }
    }

    /// The page is being closed or reloaded.
    pub fn bye(&self) {
        if let Ok(mut life) = self.life.lock() {
            life.bye_at = Some(Instant::now());
        }
    }

    /// Whether the page has gone for good.
    fn page_gone(&self) -> bool {
        let Ok(life) = self.life.lock() else {
            return true;
        };
        match (life.bye_at, life.last_seen) {
            (Some(bye), _) => bye.elapsed() >= BYE_GRACE,
            (None, Some(seen)) => seen.elapsed() >= HEARTBEAT_TIMEOUT,
            // Nobody has opened the page yet: wait for them.
            (None, None) => false,
        }
    }
}

pub fn run(args: EditArgs, ui: Ui) -> Outcome {
    super::stdin::refuse_stdin(&args.audio, "edit")?;
    let session = open_session(&args)?;
    let server = tiny_http::Server::http(("127.0.0.1", args.port))
        .map_err(|e| anyhow::anyhow!("cannot listen on 127.0.0.1:{}: {e}", args.port))?;
    let port = server
        .server_addr()
        .to_ip()
        .map(|a| a.port())
        .context("the server has no TCP address")?;
    let mut session = session;
    session.allowed.port = port;
    let session = Arc::new(session);
    spawn_envelope(Arc::clone(&session));
    let url = format!("http://127.0.0.1:{port}/?token={}", session.allowed.token);
    // The address is the interface (tests and scripts read it): always printed, on stdout.
    println!("{url}");
    if !ui.quiet {
        eprintln!("chapmark: editing {}; Ctrl-C to stop", args.audio.display());
    }
    if !args.no_open {
        open_browser(&url);
    }
    serve(&server, &session);
    // A Save in progress finishes before we return.
    let _done = session.writing.lock();
    if !ui.quiet {
        eprintln!("chapmark: the editor page was closed; stopped");
    }
    Ok(ExitStatus::Ok)
}

/// Answers requests until the page has gone.
fn serve(server: &tiny_http::Server, session: &Arc<Session>) {
    loop {
        match server.recv_timeout(Duration::from_millis(250)) {
            Ok(Some(request)) => {
                let s = Arc::clone(session);
                std::thread::spawn(move || api::handle(&s, request));
            }
            Ok(None) => {}
            Err(e) => log::warn!("editor server: {e}"),
        }
        if session.page_gone() {
            return;
        }
    }
}

/// Probes the episode and loads the chapters to start from.
fn open_session(args: &EditArgs) -> anyhow::Result<Session> {
    let (info, list) = {
        let _guard = prepare_audio(&args.audio, Access::Read)?;
        let info = common::probe_audio(&args.audio)?;
        if !embed::holds_chapters(info.container) {
            return Err(embed::unsupported(&args.audio, info.container).into());
        }
        let list = match &args.chapters {
            Some(path) => common::load_chapters(path, None)?.parsed.list,
            None => embed::read_embedded_of(&args.audio, info.container)?,
        };
        (info, list)
    };
    let audio_name = file_name(&args.audio)?;
    let chapters_name = args.chapters.as_deref().map(file_name).transpose()?;
    Ok(Session {
        audio: args.audio.clone(),
        chapters: args.chapters.clone(),
        info,
        profile: args.profile,
        allowed: guard::Allowed {
            port: 0,
            token: new_token()?,
            audio_name,
            chapters_name,
        },
        base: Mutex::new(list),
        writing: Mutex::new(()),
        envelope: OnceLock::new(),
        life: Mutex::new(Life::default()),
    })
}

fn file_name(path: &Path) -> anyhow::Result<String> {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .with_context(|| format!("{}: not a file name", path.display()))
}

/// 128 random bits from the operating system, in hex.
fn new_token() -> anyhow::Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no random numbers: {e}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// The waveform, from the `.peaks` cache when current (the plot command's), else decoded.
fn spawn_envelope(session: Arc<Session>) {
    std::thread::spawn(move || {
        let env = envelope_of(&session.audio, &session.info, CACHE_BUCKETS, true)
            .map_err(|e| e.to_string());
        let _ = session.envelope.set(env);
    });
}

/// Best effort: the address is printed anyway.
fn open_browser(url: &str) {
    let mut cmd = if cfg!(target_os = "macos") {
        std::process::Command::new("open")
    } else if cfg!(windows) {
        let mut c = std::process::Command::new("cmd");
        c.args(["/C", "start", ""]);
        c
    } else {
        std::process::Command::new("xdg-open")
    };
    if let Err(e) = cmd.arg(url).spawn() {
        log::warn!("cannot open a browser ({e}); open {url} yourself");
    }
}
