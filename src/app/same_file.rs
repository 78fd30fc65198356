//! Whether two episode paths name the same file, for `batch`'s "the same file reached twice is
//! processed once".
//!
//! On Unix the file's device and inode say it exactly, from one `stat` and in 16 bytes; a
//! canonical path costs a `readlink`/`lstat` per path component and a heap string per
//! episode, which a manifest of 10,000 episodes pays 10,000 times (and keeps in memory until
//! the list is built). Hard links to one file are one file, as they should be: writing both
//! would write the same bytes twice. Elsewhere, or for a path that cannot be read (reported
//! later as `unreadable`), the canonical path (or the path as given) is the identity.

use std::path::{Path, PathBuf};

/// The identity of an episode's file.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FileId {
    /// Device and inode.
    Inode(u64, u64),
    /// The canonical path, or the path as given when it cannot be resolved.
    Path(PathBuf),
}

/// The identity of the file at `path`.
pub fn id(path: &Path) -> FileId {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let Ok(m) = std::fs::metadata(path) {
            return FileId::Inode(m.dev(), m.ino());
        }
    }
    FileId::Path(std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_and_spellings_of_one_file_are_one() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.mp3");
        std::fs::write(&a, b"x").unwrap();
        let b = dir.path().join("b.mp3");
        std::fs::write(&b, b"x").unwrap();
        let dotted = dir.path().join(".").join("a.mp3");
        assert_eq!(id(&a), id(&dotted));
        assert_ne!(id(&a), id(&b));
        #[cfg(unix)]
        {
            let link = dir.path().join("link.mp3");
            std::os::unix::fs::symlink(&a, &link).unwrap();
            assert_eq!(id(&a), id(&link));
            let hard = dir.path().join("hard.mp3");
            std::fs::hard_link(&a, &hard).unwrap();
            assert_eq!(id(&a), id(&hard));
        }
        let missing = dir.path().join("missing.mp3");
        assert_eq!(id(&missing), FileId::Path(missing.clone()));
    }
}
