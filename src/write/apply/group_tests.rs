//! Unit tests of the group commit.

use super::*;
use std::fs;

fn file(dir: &Path, name: &str, len: u32) -> (PathBuf, Vec<u8>) {
    let p = dir.join(name);
    let bytes: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
    fs::write(&p, &bytes).unwrap();
    (p, bytes)
}

fn patch(offset: u64, data: &[u8]) -> Patch {
    Patch {
        offset,
        data: data.to_vec(),
    }
}

/// Every strategy in one group: each file ends as a single `apply` leaves it.
fn plans() -> Vec<(&'static str, Plan)> {
    let tag = vec![b'T'; 4196];
    let insert = |len: u64| Plan::Insert {
        len,
        patches: vec![patch(0, &tag[..(100 + len) as usize])],
        fallback: vec![
            Piece::Bytes(tag[..(100 + len) as usize].to_vec()),
            Piece::Copy {
                offset: 100,
                len: 3 * 4096 - 100,
            },
        ],
    };
    vec![
        (
            "patch.bin",
            Plan::Patch(vec![patch(2, b"xy"), patch(9000, b"zz")]),
        ),
        ("insert.bin", insert(4096)),
        ("unaligned.bin", insert(1000)),
        (
            "rebuild.bin",
            Plan::Rebuild(vec![
                Piece::Bytes(b"NEW".to_vec()),
                Piece::Copy { offset: 5, len: 10 },
            ]),
        ),
        ("unchanged.bin", Plan::Unchanged),
        (
            "bad.bin",
            Plan::Patch(vec![patch(3 * 4096, b"past the end")]),
        ),
    ]
}

#[test]
fn a_group_ends_as_single_writes_do() {
    let single = tempfile::tempdir().unwrap();
    let grouped = tempfile::tempdir().unwrap();
    let plans = plans();
    let mut paths = Vec::new();
    for (name, plan) in &plans {
        let (a, _) = file(single.path(), name, 3 * 4096);
        let one = super::super::apply(&a, plan);
        let (b, _) = file(grouped.path(), name, 3 * 4096);
        paths.push((b, one.is_ok()));
    }
    let items: Vec<(&Path, &Plan)> = paths
        .iter()
        .zip(&plans)
        .map(|((p, _), (_, plan))| (p.as_path(), plan))
        .collect();
    let results = apply_group(&items);
    for (((p, ok), (name, _)), result) in paths.iter().zip(&plans).zip(&results) {
        assert_eq!(result.is_ok(), *ok, "{name}: {result:?}");
        assert_eq!(
            fs::read(p).unwrap(),
            fs::read(single.path().join(name)).unwrap(),
            "{name}"
        );
    }
    let mut names: Vec<String> = fs::read_dir(grouped.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.iter().all(|n| !n.starts_with('.')), "{names:?}");
}

/// A crash after the journals were written, or after the patches too: recovery gives back
/// every original and leaves nothing beside it.
#[test]
fn recovery_undoes_a_group_interrupted_after_either_step() {
    for apply_too in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let plans = plans();
        let mut originals = Vec::new();
        let mut stages = Vec::new();
        for (name, plan) in &plans {
            let (p, bytes) = file(dir.path(), name, 3 * 4096);
            let target = resolve_target(&p).unwrap();
            let mut st = stage(&target, plan).unwrap_or_else(|e| Stage::Done(Err(e)));
            if apply_too {
                apply_staged(&mut st, &target, plan);
            }
            originals.push((target, bytes));
            stages.push(st);
        }
        // The process dies: open files are closed, nothing else happens.
        drop(stages);
        for ((target, bytes), (name, _)) in originals.iter().zip(&plans) {
            recover(target).unwrap();
            let now = fs::read(target).unwrap();
            // A rename is atomic: a renamed rebuild is the result, anything else the original.
            let renamed = apply_too && (name.starts_with("rebuild") || name.starts_with("unal"));
            assert_eq!(now == *bytes, !renamed, "{name} (applied: {apply_too})");
        }
        let stray: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .filter(|n| n.to_string_lossy().starts_with('.'))
            .collect();
        assert!(stray.is_empty(), "{stray:?}");
    }
}
