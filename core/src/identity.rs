//! The device identity: an iroh secret key created once and kept in the data directory.

use std::path::{Path, PathBuf};

use iroh_base::SecretKey;

/// The file, inside the data directory, that holds the secret key.
pub const KEY_FILE: &str = "identity.key";

/// Why the identity could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IdentityError {
    /// The key file exists but is not a key.
    #[error(
        "identity key file {path} is corrupt: expected 32 bytes, found {len}; restore it from a backup or move it away to start as a new identity"
    )]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Its length.
        len: usize,
    },
    /// The key file could not be read or written.
    #[error("cannot access identity key file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
}

/// Loads the key from `dir`, creating it the first time.
pub fn load_or_create(dir: &Path) -> Result<SecretKey, IdentityError> {
    let path = dir.join(KEY_FILE);
    let io = |source| IdentityError::Io {
        path: path.clone(),
        source,
    };
    match std::fs::read(&path) {
        Ok(bytes) => {
            let arr: [u8; 32] =
                bytes
                    .as_slice()
                    .try_into()
                    .map_err(|_| IdentityError::Corrupt {
                        path: path.clone(),
                        len: bytes.len(),
                    })?;
            Ok(SecretKey::from_bytes(&arr))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = SecretKey::generate();
            crate::paths::write_atomic(&path, &key.to_bytes(), 0o600).map_err(io)?;
            Ok(key)
        }
        Err(e) => Err(io(e)),
    }
}
