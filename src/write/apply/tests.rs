//! Unit tests of the applier.

use super::*;
use crate::write::Patch;
use journal::Journal;
use patch::changed_runs;
use std::fs::OpenOptions;
use sys::insert_start;

#[test]
fn rebuild_keeps_untouched_ranges() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.bin");
    fs::write(&p, b"0123456789").unwrap();
    let plan = Plan::Rebuild(vec![
        Piece::Bytes(b"TAG".to_vec()),
        Piece::Copy { offset: 4, len: 6 },
    ]);
    assert_eq!(apply(&p, &plan).unwrap(), 9);
    assert_eq!(fs::read(&p).unwrap(), b"TAG456789");
}

#[test]
fn patch_and_out_of_range() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.bin");
    fs::write(&p, b"0123456789").unwrap();
    let plan = Plan::Patch(vec![Patch {
        offset: 2,
        data: b"xy".to_vec(),
    }]);
    apply(&p, &plan).unwrap();
    assert_eq!(fs::read(&p).unwrap(), b"01xy456789");
    assert!(!journal_path(&resolve_target(&p).unwrap()).exists());
    let bad = Plan::Patch(vec![Patch {
        offset: 9,
        data: b"xy".to_vec(),
    }]);
    assert!(matches!(
        apply(&p, &bad),
        Err(WriteError::PlanOutOfRange { .. })
    ));
    let overlapping = Plan::Patch(vec![
        Patch {
            offset: 1,
            data: b"abc".to_vec(),
        },
        Patch {
            offset: 2,
            data: b"z".to_vec(),
        },
    ]);
    assert!(matches!(
        apply(&p, &overlapping),
        Err(WriteError::PlanOutOfRange { .. })
    ));
    assert_eq!(fs::read(&p).unwrap(), b"01xy456789");
}

#[cfg(unix)]
#[test]
fn symlink_stays_a_link_and_mode_is_kept() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real.bin");
    let link = dir.path().join("link.bin");
    fs::write(&real, b"abc").unwrap();
    fs::set_permissions(&real, fs::Permissions::from_mode(0o640)).unwrap();
    std::os::unix::fs::symlink(&real, &link).unwrap();
    apply(&link, &Plan::Rebuild(vec![Piece::Bytes(b"new".to_vec())])).unwrap();
    assert!(
        fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(fs::read(&real).unwrap(), b"new");
    let mode = fs::metadata(&real).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640);
    // In place, through the link, journal beside the target.
    let patch = Plan::Patch(vec![Patch {
        offset: 0,
        data: b"N".to_vec(),
    }]);
    apply(&link, &patch).unwrap();
    assert_eq!(fs::read(&real).unwrap(), b"New");
    let mode = fs::metadata(&real).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640);
}

#[cfg(unix)]
#[test]
fn apply_to_gives_the_output_the_source_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src.bin");
    let out = dir.path().join("out.bin");
    fs::write(&src, b"abc").unwrap();
    fs::set_permissions(&src, fs::Permissions::from_mode(0o644)).unwrap();
    apply_to(&src, &out, &Plan::Unchanged).unwrap();
    assert_eq!(fs::read(&out).unwrap(), b"abc");
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&out), 0o644);
    // An existing output keeps its own permissions.
    fs::set_permissions(&out, fs::Permissions::from_mode(0o640)).unwrap();
    apply_to(
        &src,
        &out,
        &Plan::Rebuild(vec![Piece::Bytes(b"x".to_vec())]),
    )
    .unwrap();
    assert_eq!(fs::read(&out).unwrap(), b"x");
    assert_eq!(mode(&out), 0o640);
    assert_eq!(mode(&src), 0o644);
}

#[test]
fn changed_runs_merge_short_gaps() {
    let old = vec![0u8; 1000];
    let mut new = old.clone();
    assert!(changed_runs(&old, &new).is_empty());
    new[10] = 1;
    new[20] = 1; // 9 equal bytes between: merged
    new[500] = 1;
    new[999] = 1;
    assert_eq!(
        changed_runs(&old, &new),
        vec![(10, 21), (500, 501), (999, 1000)]
    );
}

#[test]
fn only_changed_bytes_are_journalled_and_written() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.bin");
    let old: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    fs::write(&p, &old).unwrap();
    let mut region = old[1000..90_000].to_vec();
    region[5] ^= 0xFF;
    region[70_000] ^= 0xFF;
    let plan = Plan::Patch(vec![Patch {
        offset: 1000,
        data: region.clone(),
    }]);
    assert_eq!(apply(&p, &plan).unwrap(), 2);
    let mut want = old.clone();
    want[1000..90_000].copy_from_slice(&region);
    assert_eq!(fs::read(&p).unwrap(), want);
    // Again: nothing differs any more.
    assert_eq!(apply(&p, &plan).unwrap(), 0);
    assert!(!journal_path(&resolve_target(&p).unwrap()).exists());
}

#[test]
fn journal_round_trip_and_corruption() {
    let regions = vec![(3u64, b"abc".to_vec()), (10, vec![0xFF; 5])];
    let j = Journal::encode(Path::new("/x/y.mp3"), 100, 0, &regions);
    let d = Journal::decode(&j).unwrap();
    assert_eq!(d.regions, regions);
    assert_eq!(d.file_len, 100);
    assert_eq!(d.path, b"/x/y.mp3");
    for cut in 0..j.len() {
        assert!(Journal::decode(&j[..cut]).is_none(), "cut at {cut}");
    }
    let mut flipped = j.clone();
    flipped[20] ^= 1;
    assert!(Journal::decode(&flipped).is_none());
}

#[test]
fn recover_rolls_back_a_complete_journal() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.bin");
    fs::write(&p, b"0123456789").unwrap();
    let target = resolve_target(&p).unwrap();
    // As if the process died after writing the journal and half of the patch.
    fs::write(
        journal_path(&target),
        Journal::encode(&target, 10, 0, &[(2, b"234".to_vec())]),
    )
    .unwrap();
    fs::write(&p, b"01XY456789").unwrap();
    assert_eq!(
        recover(&p).unwrap(),
        Recovery::RolledBack {
            regions: 1,
            bytes: 3
        }
    );
    assert_eq!(fs::read(&p).unwrap(), b"0123456789");
    assert_eq!(recover(&p).unwrap(), Recovery::Clean);
    // An incomplete journal is dropped without touching the file.
    let j = Journal::encode(&target, 10, 0, &[(0, b"zz".to_vec())]);
    fs::write(journal_path(&target), &j[..j.len() - 3]).unwrap();
    assert_eq!(recover(&p).unwrap(), Recovery::DiscardedIncomplete);
    assert_eq!(fs::read(&p).unwrap(), b"0123456789");
    assert!(!journal_path(&target).exists());
    // A journal for a file of another length is refused and kept.
    fs::write(
        journal_path(&target),
        Journal::encode(&target, 11, 0, &[(0, b"zz".to_vec())]),
    )
    .unwrap();
    assert!(matches!(
        recover(&p),
        Err(WriteError::JournalMismatch { .. })
    ));
    assert!(journal_path(&target).exists());
    assert!(apply(&p, &Plan::Unchanged).is_err());
}

#[test]
fn apply_refuses_a_plan_made_before_a_rollback() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.bin");
    fs::write(&p, b"0123456789").unwrap();
    let target = resolve_target(&p).unwrap();
    fs::write(
        journal_path(&target),
        Journal::encode(&target, 10, 0, &[(0, b"0".to_vec())]),
    )
    .unwrap();
    let plan = Plan::Patch(vec![Patch {
        offset: 0,
        data: b"A".to_vec(),
    }]);
    assert!(matches!(
        apply(&p, &plan),
        Err(WriteError::StalePlan { .. })
    ));
    apply(&p, &plan).unwrap();
    assert_eq!(fs::read(&p).unwrap(), b"A123456789");
}

#[test]
fn stale_temp_files_are_removed() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.bin");
    fs::write(&p, b"x").unwrap();
    let stale = dir.path().join(".a.bin.chapmark-tmp");
    let other = dir.path().join(".b.bin.chapmark-tmp");
    fs::write(&stale, b"partial").unwrap();
    fs::write(&other, b"not ours").unwrap();
    assert_eq!(recover(&p).unwrap(), Recovery::Clean);
    assert!(!stale.exists());
    assert!(other.exists());
}

/// A 3-block file with distinct bytes everywhere, and an insert plan that grows its first
/// 100 bytes (the "tag") into 100 + `len` bytes of `T`.
fn insert_case(dir: &Path, len: u64) -> (PathBuf, Vec<u8>, Plan, Vec<u8>) {
    let p = dir.join("a.bin");
    let old: Vec<u8> = (0..3 * 4096u32).map(|i| (i % 253) as u8).collect();
    fs::write(&p, &old).unwrap();
    let tag = vec![b'T'; 100 + len as usize];
    let plan = Plan::Insert {
        len,
        patches: vec![Patch {
            offset: 0,
            data: tag.clone(),
        }],
        fallback: vec![
            Piece::Bytes(tag.clone()),
            Piece::Copy {
                offset: 100,
                len: old.len() as u64 - 100,
            },
        ],
    };
    let mut want = tag;
    want.extend_from_slice(&old[100..]);
    (p, old, plan, want)
}

#[cfg(unix)]
fn inode(p: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    fs::metadata(p).unwrap().ino()
}

/// Whether the file system under `dir` can insert ranges (ext4/XFS; not tmpfs).
#[cfg(target_os = "linux")]
fn inserts_here(dir: &Path) -> bool {
    let p = dir.join("probe.bin");
    fs::write(&p, vec![1u8; 8192]).unwrap();
    let f = OpenOptions::new().write(true).open(&p).unwrap();
    let ok = insert_start(&f, 4096).is_ok();
    drop(f);
    fs::remove_file(&p).unwrap();
    if !ok {
        eprintln!("{}: no FALLOC_FL_INSERT_RANGE here", dir.display());
    }
    ok
}

#[cfg(target_os = "linux")]
#[test]
fn insert_grows_in_place_and_matches_the_fallback() {
    let dir = tempfile::tempdir().unwrap();
    let (p, _, plan, want) = insert_case(dir.path(), 4096);
    let ino = inode(&p);
    assert_eq!(apply(&p, &plan).unwrap(), 4196);
    assert_eq!(fs::read(&p).unwrap(), want);
    assert!(!journal_path(&resolve_target(&p).unwrap()).exists());
    if inserts_here(dir.path()) {
        assert_eq!(inode(&p), ino, "grown in place, not rebuilt");
    }
    // `-o` takes the fallback, from the original, with the same result.
    let (p, old, plan, want) = insert_case(dir.path(), 4096);
    let out = dir.path().join("out.bin");
    apply_to(&p, &out, &plan).unwrap();
    assert_eq!(fs::read(&out).unwrap(), want);
    assert_eq!(fs::read(&p).unwrap(), old);
}

#[cfg(unix)]
#[test]
fn an_unaligned_insert_falls_back_to_the_rebuild() {
    let dir = tempfile::tempdir().unwrap();
    let (p, _, plan, want) = insert_case(dir.path(), 1000);
    let ino = inode(&p);
    apply(&p, &plan).unwrap();
    assert_eq!(fs::read(&p).unwrap(), want);
    assert_ne!(inode(&p), ino, "rebuilt into a new file");
    assert!(!journal_path(&resolve_target(&p).unwrap()).exists());
}

#[test]
fn apply_to_uses_the_fallback() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.bin");
    fs::write(&p, vec![7u8; 8192]).unwrap();
    // Deliberately unlike the patches, to see which one is used.
    let plan = Plan::Insert {
        len: 4096,
        patches: vec![Patch {
            offset: 0,
            data: b"patch".to_vec(),
        }],
        fallback: vec![Piece::Bytes(b"fallback".to_vec())],
    };
    let out = dir.path().join("out.bin");
    assert_eq!(apply_to(&p, &out, &plan).unwrap(), 8);
    assert_eq!(fs::read(&out).unwrap(), b"fallback");
    assert_eq!(plan.output_len(8192), 8192 + 4096);
    assert_eq!(plan.bytes_written(), 5);
}

#[test]
fn insert_journal_round_trip() {
    let regions = vec![(0u64, b"abc".to_vec())];
    let j = Journal::encode(Path::new("/x/y.mp3"), 100, 4096, &regions);
    assert_eq!(&j[..8], b"CHMKJNL2");
    let d = Journal::decode(&j).unwrap();
    assert_eq!((d.file_len, d.inserted), (100, 4096));
    assert_eq!(d.regions, regions);
    for cut in 0..j.len() {
        assert!(Journal::decode(&j[..cut]).is_none(), "cut at {cut}");
    }
    // A same-length patch keeps the old format.
    assert_eq!(
        &Journal::encode(Path::new("/x"), 100, 0, &regions)[..8],
        b"CHMKJNL1"
    );
}

/// A file system that refuses the insertion (tmpfs: `EOPNOTSUPP`) after the journal is
/// written: the journal is undone and dropped, and the fallback rebuild gives the result.
#[cfg(target_os = "linux")]
#[test]
fn a_refused_insert_rolls_back_its_journal_and_rebuilds() {
    let Ok(dir) = tempfile::tempdir_in("/dev/shm") else {
        eprintln!("no /dev/shm: skipped");
        return;
    };
    if inserts_here(dir.path()) {
        eprintln!("/dev/shm inserts ranges: skipped");
        return;
    }
    let (p, _, plan, want) = insert_case(dir.path(), 4096);
    let ino = inode(&p);
    apply(&p, &plan).unwrap();
    assert_eq!(fs::read(&p).unwrap(), want);
    assert_ne!(inode(&p), ino, "rebuilt");
    let mut names: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert_eq!(names, ["a.bin"], "no journal or temporary file left");
}

/// Recovery from every state an insert can be interrupted in, made by hand: journal only,
/// space inserted, half patched, fully patched; and a length that fits neither.
#[cfg(target_os = "linux")]
#[test]
fn recover_undoes_an_interrupted_insert_in_every_state() {
    let dir = tempfile::tempdir().unwrap();
    if !inserts_here(dir.path()) {
        return;
    }
    let (p, old, plan, want) = insert_case(dir.path(), 4096);
    let target = resolve_target(&p).unwrap();
    let journal = Journal::encode(&target, old.len() as u64, 4096, &[(0, old[..100].to_vec())]);
    let grown = |cut: usize| {
        fs::write(&p, &old).unwrap();
        let f = OpenOptions::new().write(true).open(&p).unwrap();
        insert_start(&f, 4096).unwrap();
        drop(f);
        let mut now = fs::read(&p).unwrap();
        assert_eq!(now.len(), old.len() + 4096);
        assert!(now[..4096].iter().all(|&b| b == 0));
        assert_eq!(&now[4096..], old.as_slice());
        now[..cut].copy_from_slice(&want[..cut]);
        fs::write(&p, &now).unwrap();
    };
    type Setup<'a> = Box<dyn Fn() + 'a>;
    let states: [(&str, Setup); 4] = [
        ("journal only", Box::new(|| fs::write(&p, &old).unwrap())),
        ("inserted", Box::new(|| grown(0))),
        ("half patched", Box::new(|| grown(2098))),
        ("patched", Box::new(|| grown(4196))),
    ];
    for (name, setup) in &states {
        setup();
        fs::write(journal_path(&target), &journal).unwrap();
        assert!(
            matches!(
                recover(&p).unwrap(),
                Recovery::RolledBack {
                    regions: 1,
                    bytes: 100
                }
            ),
            "{name}"
        );
        assert_eq!(fs::read(&p).unwrap(), old, "{name}");
        assert!(!journal_path(&target).exists(), "{name}");
    }
    // Neither N nor N + L bytes: refused, journal kept.
    fs::write(&p, &old[..5000]).unwrap();
    fs::write(journal_path(&target), &journal).unwrap();
    assert!(matches!(
        recover(&p),
        Err(WriteError::JournalMismatch { .. })
    ));
    assert!(journal_path(&target).exists());
    fs::remove_file(journal_path(&target)).unwrap();
    // And the plan itself still applies afterwards.
    fs::write(&p, &old).unwrap();
    apply(&p, &plan).unwrap();
    assert_eq!(fs::read(&p).unwrap(), want);
}

#[test]
fn long_names_get_short_siblings() {
    let long = "x".repeat(250) + ".mp3";
    let j = journal_path(&Path::new("/d").join(&long));
    assert!(j.file_name().unwrap().len() < 40);
    assert_eq!(j, journal_path(&Path::new("/d").join(&long)));
}

#[test]
fn extend_grows_in_place_matches_the_fallback_and_rolls_back() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.m4a");
    let old: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
    fs::write(&p, &old).unwrap();
    // The last 1,000 bytes replaced by 3,000 new ones: 2,000 appended.
    let new: Vec<u8> = (0..3_000u32).map(|i| (i % 7) as u8 + 1).collect();
    let mut want = old[..9_000].to_vec();
    want.extend_from_slice(&new);
    let plan = Plan::Extend {
        len: 2_000,
        patches: vec![Patch {
            offset: 9_000,
            data: new.clone(),
        }],
        fallback: vec![
            Piece::Copy {
                offset: 0,
                len: 9_000,
            },
            Piece::Bytes(new.clone()),
        ],
    };
    let out = dir.path().join("out.m4a");
    apply_to(&p, &out, &plan).unwrap();
    assert_eq!(fs::read(&out).unwrap(), want, "fallback");
    let ino = std::os::unix::fs::MetadataExt::ino(&fs::metadata(&p).unwrap());
    assert_eq!(apply(&p, &plan).unwrap(), 3_000);
    assert_eq!(fs::read(&p).unwrap(), want);
    assert_eq!(
        std::os::unix::fs::MetadataExt::ino(&fs::metadata(&p).unwrap()),
        ino
    );

    // Recovery from each state an interrupted extend can leave.
    let target = resolve_target(&p).unwrap();
    let meta = {
        fs::write(&p, &old).unwrap();
        fs::metadata(&p).unwrap()
    };
    let journal =
        Journal::encode_append_for(&target, &meta, 2_000, &[(9_000, old[9_000..].to_vec())]);
    assert_eq!(Journal::decode(&journal).unwrap().appended, 2_000);
    let mut half = want.clone();
    half[10_500..].fill(0);
    let mut extended = old.clone();
    extended.resize(12_000, 0);
    for (name, state) in [
        ("journal only", &old),
        ("extended", &extended),
        ("half", &half),
        ("done", &want),
    ] {
        fs::write(&p, state).unwrap();
        fs::write(journal_path(&target), &journal).unwrap();
        assert!(
            matches!(
                recover(&p).unwrap(),
                Recovery::RolledBack {
                    regions: 1,
                    bytes: 1_000
                }
            ),
            "{name}"
        );
        assert_eq!(fs::read(&p).unwrap(), old, "{name}");
    }
    // Neither N nor N + A bytes: refused, journal kept.
    fs::write(&p, &old[..5_000]).unwrap();
    fs::write(journal_path(&target), &journal).unwrap();
    assert!(matches!(
        recover(&p),
        Err(WriteError::JournalMismatch { .. })
    ));
}
