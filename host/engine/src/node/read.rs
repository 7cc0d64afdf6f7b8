//! Reading what the node holds without trusting it: a FIFO or a device where
//! a file is expected must not block the scan, a huge file must not be read
//! whole, and a symlink the host did not resolve must not be followed.

use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// Flags for every open of a node file: never wait for a writer (FIFO) or a
/// terminal to become ours.
const NEVER_BLOCK: i32 = libc::O_NONBLOCK | libc::O_NOCTTY;

/// Why a file could not be read.
#[derive(Debug)]
pub enum ReadError {
    Io(io::Error),
    /// A FIFO, socket, device or directory where a file was expected.
    NotRegular(&'static str),
    TooLarge(u64),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Io(e) => write!(f, "{e}"),
            ReadError::NotRegular(kind) => write!(f, "is {kind}, not a regular file"),
            ReadError::TooLarge(limit) => write!(f, "is larger than {limit} bytes"),
        }
    }
}

impl std::error::Error for ReadError {}

impl From<io::Error> for ReadError {
    fn from(e: io::Error) -> ReadError {
        ReadError::Io(e)
    }
}

/// Refuses, before any open, a device, FIFO or socket (a symlink or a
/// directory is left to the open, which refuses or follows it as asked).
fn refuse_special(t: std::fs::FileType) -> Result<(), ReadError> {
    special(
        t.is_fifo(),
        t.is_socket(),
        t.is_char_device() || t.is_block_device(),
    )
}

fn refuse_special_cap(t: cap_std::fs::FileType) -> Result<(), ReadError> {
    use cap_std::fs::FileTypeExt as _;
    special(
        t.is_fifo(),
        t.is_socket(),
        t.is_char_device() || t.is_block_device(),
    )
}

fn special(fifo: bool, socket: bool, device: bool) -> Result<(), ReadError> {
    match (fifo, socket, device) {
        (true, _, _) => Err(ReadError::NotRegular("a FIFO")),
        (_, true, _) => Err(ReadError::NotRegular("a socket")),
        (_, _, true) => Err(ReadError::NotRegular("a device")),
        _ => Ok(()),
    }
}

/// What kind of file it is, when it is not a regular one.
fn kind(file: &File) -> Result<(), ReadError> {
    let t = file.metadata()?.file_type();
    let kind = if t.is_file() {
        return Ok(());
    } else if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_char_device() || t.is_block_device() {
        "a device"
    } else {
        "not a file"
    };
    Err(ReadError::NotRegular(kind))
}

/// A regular file outside any node root (a `/proc` entry, a report file),
/// opened without following a final symlink and without blocking.
pub fn open_regular(path: &Path) -> Result<File, ReadError> {
    // Opening a device can act (arm a watchdog, rewind a tape): look first.
    refuse_special(std::fs::symlink_metadata(path)?.file_type())?;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(NEVER_BLOCK | libc::O_NOFOLLOW)
        .open(path)?;
    kind(&file)?;
    Ok(file)
}

/// A regular file inside the node root, by a path already resolved there.
pub fn open_regular_in(root: &cap_std::fs::Dir, relative: &Path) -> Result<File, ReadError> {
    use cap_std::fs::OpenOptionsExt as _;
    refuse_special_cap(root.metadata(relative)?.file_type())?;
    let mut options = cap_std::fs::OpenOptions::new();
    options.read(true).custom_flags(NEVER_BLOCK);
    let file = root.open_with(relative, &options)?.into_std();
    kind(&file)?;
    Ok(file)
}

/// At most `limit` bytes of an open file; more is an error, not a truncation.
pub fn bounded(file: File, limit: u64) -> Result<Vec<u8>, ReadError> {
    // Sized from the file's length when it has one (not /proc's), so a
    // large file is read in one go rather than grown and copied.
    let hint = file.metadata().map_or(0, |m| m.len()).min(limit) as usize;
    let mut bytes = Vec::with_capacity(hint + 1);
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge(limit));
    }
    Ok(bytes)
}

/// A whole regular file outside the node root, at most `limit` bytes.
pub fn regular_file(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    bounded(open_regular(path)?, limit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fifo_is_refused_at_once_and_a_large_file_is_not_read_whole() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: mkfifo only reads the path it is given.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
        let e = regular_file(&fifo, 10).unwrap_err();
        assert_eq!(e.to_string(), "is a FIFO, not a regular file");

        let big = dir.path().join("big");
        std::fs::write(&big, vec![b'x'; 11]).unwrap();
        assert!(matches!(
            regular_file(&big, 10),
            Err(ReadError::TooLarge(10))
        ));
        assert_eq!(regular_file(&big, 11).unwrap().len(), 11);

        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&big, &link).unwrap();
        assert!(
            regular_file(&link, 100).is_err(),
            "a final symlink is not followed"
        );
        assert!(
            regular_file(dir.path(), 100).is_err(),
            "a directory is no file"
        );
    }
}
