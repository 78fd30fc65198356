//! Opening files that may be hostile: a named pipe, a device or a socket where an audio file
//! or a journal is expected. A plain `open` of a FIFO blocks until a writer appears (forever,
//! in a batch run), and `/dev/zero` reads as an endless or empty file; chapmark opens every
//! input through [`open_regular`], which never blocks and refuses anything but a regular file.

use std::fs::{File, FileType, OpenOptions};
use std::io;
use std::path::Path;

/// Opens `path` for reading without ever blocking, and fails with
/// [`io::ErrorKind::InvalidInput`] ("not a regular file (a named pipe)") unless it is a
/// regular file (symlinks followed).
///
/// The type is checked on the opened descriptor, not on the name, so a file swapped for a
/// FIFO between a check and the open cannot block us: `O_NONBLOCK` makes opening a FIFO
/// return at once, and has no effect on reads from a regular file.
pub fn open_regular(path: &Path) -> io::Result<File> {
    let mut opts = OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    let file = opts.open(path)?;
    check_regular(&file.metadata()?.file_type())?;
    Ok(file)
}

/// `Ok` for a regular file; otherwise an [`io::ErrorKind::InvalidInput`] error naming the kind.
pub fn check_regular(ft: &FileType) -> io::Result<()> {
    if ft.is_file() {
        return Ok(());
    }
    Err(io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("not a regular file ({})", kind_name(ft)),
    ))
}

/// What kind of non-regular file this is, for messages.
pub fn kind_name(ft: &FileType) -> &'static str {
    if ft.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            return "a named pipe";
        }
        if ft.is_char_device() {
            return "a character device";
        }
        if ft.is_block_device() {
            return "a block device";
        }
        if ft.is_socket() {
            return "a socket";
        }
    }
    "a special file"
}
