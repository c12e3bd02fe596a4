//! The data directory: where it is, and the lock that keeps a second engine out of it.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The environment variable that overrides the data directory.
pub const DATA_DIR_ENV: &str = "BACKSTORY_DATA_DIR";

/// Why the data directory could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataDirError {
    /// No home directory to put the data in, and no override given.
    #[error("cannot find a data directory: set {DATA_DIR_ENV} or --data-dir")]
    NoHome,
    /// The directory could not be created or opened.
    #[error("cannot use data directory {path}: {source}")]
    Io {
        /// The directory.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The directory belongs to another user.
    #[error(
        "data directory {path} belongs to another user (uid {owner}); use your own with --data-dir or {DATA_DIR_ENV}"
    )]
    NotYours {
        /// The directory.
        path: PathBuf,
        /// Its owner.
        owner: u32,
    },
    /// Another engine holds the lock.
    #[error(
        "another Backstory engine is already running on {path}{pid}; stop it first or use another data directory"
    )]
    Locked {
        /// The directory.
        path: PathBuf,
        /// ` (pid N)` when the holder wrote its pid.
        pid: String,
    },
}

/// The data directory to use: an explicit path, else `BACKSTORY_DATA_DIR`, else the platform's.
pub fn resolve(explicit: Option<&Path>) -> Result<PathBuf, DataDirError> {
    if let Some(p) = explicit {
        return Ok(p.to_path_buf());
    }
    if let Some(p) = std::env::var_os(DATA_DIR_ENV).filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    directories::ProjectDirs::from("org", "Backstory", "backstory")
        .map(|d| d.data_dir().to_path_buf())
        .ok_or(DataDirError::NoHome)
}

/// Creates the directory (mode 0700) if needed; an existing one is made 0700 again, and one that
/// belongs to another user is refused.
pub fn ensure(dir: &Path) -> Result<(), DataDirError> {
    use std::os::unix::fs::MetadataExt;
    let io = |source| DataDirError::Io {
        path: dir.to_path_buf(),
        source,
    };
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(io)?;
    let meta = std::fs::metadata(dir).map_err(io)?;
    let me = rustix::process::geteuid().as_raw();
    if meta.uid() != me {
        return Err(DataDirError::NotYours {
            path: dir.to_path_buf(),
            owner: meta.uid(),
        });
    }
    if meta.mode() & 0o777 != 0o700 {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(io)?;
    }
    Ok(())
}

/// The longest path a Unix socket address holds (`sun_path` less its terminating zero).
const MAX_SOCKET_PATH: usize = 107;

/// Where the socket `name` of a data directory lives: inside it, or, when that path is too long
/// for a Unix socket, in a private directory of its own under the runtime directory
/// (`$XDG_RUNTIME_DIR`, else the temporary directory), named after the data directory. Client and
/// server compute the same path.
pub fn socket_path(dir: &Path, name: &str) -> PathBuf {
    let inside = dir.join(name);
    if inside.as_os_str().len() <= MAX_SOCKET_PATH {
        return inside;
    }
    let full = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    let tag = blake3::hash(full.as_os_str().as_encoded_bytes()).to_hex();
    let runtime = std::env::var_os("XDG_RUNTIME_DIR")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let uid = rustix::process::geteuid().as_raw();
    runtime
        .join(format!("backstory-{uid}"))
        .join(&tag.as_str()[..16])
        .join(name)
}

/// Binds a Unix socket that only this user can reach: created under a private umask (no moment
/// when it is open to others), in a directory of this user's own. A stale socket file is replaced.
pub fn bind_private(path: &Path) -> std::io::Result<std::os::unix::net::UnixListener> {
    use rustix::fs::Mode;
    if let Some(parent) = path.parent() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(parent)?;
        private_dir(parent)?;
    }
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let before = rustix::process::umask(Mode::from_raw_mode(0o177));
    let bound = std::os::unix::net::UnixListener::bind(path);
    rustix::process::umask(before);
    bound
}

/// Refuses a directory that is not this user's alone.
fn private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(dir)?;
    if meta.uid() != rustix::process::geteuid().as_raw() || meta.mode() & 0o077 != 0 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            format!(
                "{} is not private to this user (owner {}, mode {:o})",
                dir.display(),
                meta.uid(),
                meta.mode() & 0o777
            ),
        ));
    }
    Ok(())
}

/// The engine's exclusive hold on a data directory, released when dropped (or when the process dies).
#[derive(Debug)]
pub struct DirLock {
    _file: File,
}

impl DirLock {
    /// Takes the lock, or says who holds it.
    pub fn acquire(dir: &Path) -> Result<Self, DataDirError> {
        let path = dir.join("lock");
        let io = |source| DataDirError::Io {
            path: path.clone(),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ignored_unreadable_pid = file.read_to_string(&mut holder);
                let pid = holder.trim();
                return Err(DataDirError::Locked {
                    path: dir.to_path_buf(),
                    pid: if pid.is_empty() {
                        String::new()
                    } else {
                        format!(" (pid {pid})")
                    },
                });
            }
            Err(TryLockError::Error(e)) => return Err(io(e)),
        }
        file.set_len(0).map_err(io)?;
        file.rewind().map_err(io)?;
        write!(file, "{}", std::process::id()).map_err(io)?;
        Ok(Self { _file: file })
    }
}

/// Writes `bytes` to `path` so that a crash leaves either the old file or the new one: a temporary
/// file, fsync, rename, fsync of the directory. The temporary file is created new (`O_EXCL`) and
/// never through a symbolic link (`O_NOFOLLOW`); one left by a crash is removed first.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let open = || {
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .custom_flags(nofollow())
            .mode(mode)
            .open(&tmp)
    };
    let mut f = match open() {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            std::fs::remove_file(&tmp)?;
            open()?
        }
        other => other?,
    };
    f.write_all(bytes)?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, path)?;
    File::open(dir)?.sync_all()
}

/// `O_NOFOLLOW`, as `OpenOptionsExt::custom_flags` takes it.
fn nofollow() -> i32 {
    i32::try_from(rustix::fs::OFlags::NOFOLLOW.bits()).unwrap_or(0)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests fail loudly by design
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    fn mode(p: &Path) -> u32 {
        std::fs::symlink_metadata(p).unwrap().mode() & 0o777
    }

    #[test]
    fn an_open_data_directory_is_made_private_again() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("data");
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        ensure(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
    }

    #[test]
    fn a_data_directory_of_another_user_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("theirs");
        std::fs::create_dir(&dir).unwrap();
        if std::os::unix::fs::chown(&dir, Some(65534), Some(65534)).is_err() {
            eprintln!("skipped: changing a directory's owner needs root");
            return;
        }
        let err = ensure(&dir).unwrap_err();
        assert!(
            matches!(err, DataDirError::NotYours { owner: 65534, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("belongs to another user"), "{err}");
    }

    #[test]
    fn an_atomic_write_does_not_follow_a_planted_link() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("elsewhere");
        std::fs::write(&target, b"untouched").unwrap();
        let path = tmp.path().join("identity.key");
        let planted = path.with_extension(format!("tmp{}", std::process::id()));
        std::os::unix::fs::symlink(&target, &planted).unwrap();
        write_atomic(&path, b"secret", 0o600).unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"untouched");
        assert_eq!(std::fs::read(&path).unwrap(), b"secret");
        assert_eq!(mode(&path), 0o600);
        assert!(!planted.exists());
    }

    #[test]
    fn a_socket_path_too_long_moves_to_a_private_runtime_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let short = tmp.path().join("d");
        assert_eq!(
            socket_path(&short, "control.sock"),
            short.join("control.sock")
        );
        let long = tmp.path().join("x".repeat(120));
        let path = socket_path(&long, "control.sock");
        assert!(
            path.as_os_str().len() <= MAX_SOCKET_PATH,
            "{}",
            path.display()
        );
        assert_eq!(
            path,
            socket_path(&long, "control.sock"),
            "client and server agree"
        );
        assert_ne!(
            path,
            socket_path(&tmp.path().join("y".repeat(120)), "control.sock")
        );
        let listener = bind_private(&path).unwrap();
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(path.parent().unwrap()), 0o700);
        std::os::unix::net::UnixStream::connect(&path).unwrap();
        drop(listener);
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }
}
