//! Prints one JSON line per file with the exact playable length, for the benchmark script
//! until `chapmark probe --json` exists.
//!
//! `cargo run --release --example probe -- FILE...`; exit code 3 if any file failed.

use std::path::Path;

fn main() {
    let mut failed = false;
    for arg in std::env::args_os().skip(1) {
        let path = Path::new(&arg);
        match chapmark::probe::probe_path(path) {
            Ok(info) => {
                let mut v = match serde_json::to_value(&info) {
                    Ok(v) => v,
                    Err(e) => {
                        eprintln!("{}: {e}", path.display());
                        failed = true;
                        continue;
                    }
                };
                if let Some(obj) = v.as_object_mut() {
                    obj.insert("file".into(), path.display().to_string().into());
                    // f64 seconds only here, at the output edge.
                    obj.insert("seconds".into(), info.duration.as_secs_f64().into());
                }
                println!("{v}");
            }
            Err(e) => {
                eprintln!("{e}");
                failed = true;
            }
        }
    }
    if failed {
        std::process::exit(3);
    }
}
