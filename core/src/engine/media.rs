//! Media: attachments imported into the BLAKE3-verified blob store, served to contacts under the
//! grants publishing sets, and fetched from contacts with progress.

use std::path::{Path, PathBuf};

use backstory_crdt::{EntryId, Kind, MediaRef};
use iroh_blobs::api::proto::BlobStatus;
use iroh_blobs::store::fs::FsStore;
use iroh_blobs::store::fs::options::{Options as StoreOptions, PathOptions};

use super::device::Device;
use crate::contact::Contact;
use crate::error::{EngineError, NetError};
use crate::event::Event;
use crate::net::Net;
use crate::net::blobs::BlobGrants;

/// The media part; cheap to clone.
#[derive(Clone)]
pub(crate) struct Media {
    device: Device,
    blobs: FsStore,
    /// Where the store keeps the files of its blobs.
    paths: PathOptions,
    grants: BlobGrants,
}

/// Room kept free beyond what the blob store takes in: its database grows too, and a write that
/// fails there stops the blob store until a restart.
const HEADROOM: u64 = 8 << 20;

/// The engine's error for what the blob store said about `path`: the operating system's error
/// it wraps says what happened (a full disk is its own error).
fn io(path: &Path, e: &(dyn std::error::Error + 'static)) -> EngineError {
    let path = path.to_path_buf();
    match crate::error::os_error(e) {
        Some(os) if crate::error::is_disk_full(os) => EngineError::DiskFull { path },
        Some(os) => EngineError::Io {
            path,
            source: std::io::Error::new(os.kind(), format!("{e}: {os}")),
        },
        None => EngineError::Io {
            path,
            source: std::io::Error::other(e.to_string()),
        },
    }
}

/// Copies the store's file of a blob to `out`; the kernel copies from file to file
/// (`copy_file_range`, which `io::copy` uses between two files). Where `out`
/// is that very file under another name (the windows' copy), it holds the bytes already, and
/// opening it for writing would empty the store's copy.
async fn copy_file(from: PathBuf, out: &Path) -> Result<(), EngineError> {
    use std::os::unix::fs::MetadataExt;
    let to = out.to_path_buf();
    let copied = tokio::task::spawn_blocking(move || {
        let same =
            |a: &std::fs::Metadata, b: &std::fs::Metadata| (a.dev(), a.ino()) == (b.dev(), b.ino());
        if let (Ok(a), Ok(b)) = (std::fs::metadata(&from), std::fs::metadata(&to))
            && same(&a, &b)
        {
            return Ok(());
        }
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent)?;
        }
        // Not `fs::copy`, which would give a file already there the store's permissions.
        let mut source = std::fs::File::open(&from)?;
        let mut target = std::fs::File::create(&to)?;
        std::io::copy(&mut source, &mut target).map(drop)
    })
    .await
    .map_err(|_| EngineError::Stopped)?;
    copied.map_err(|source| {
        let path = out.to_path_buf();
        if crate::error::is_disk_full(&source) {
            EngineError::DiskFull { path }
        } else {
            EngineError::Io { path, source }
        }
    })
}

impl Media {
    /// Opens the blob store under `<data>/blobs`.
    pub(crate) async fn open(device: Device) -> Result<Self, EngineError> {
        let dir = device.dir().join("blobs");
        let options = StoreOptions::new(&dir);
        let paths = options.path.clone();
        let blobs = FsStore::load_with_opts(dir.join("blobs.db"), options)
            .await
            .map_err(|e| io(&dir, &e))?;
        Ok(Self {
            device,
            blobs,
            paths,
            grants: BlobGrants::default(),
        })
    }

    /// Which peer may fetch which blob.
    pub(crate) fn grants(&self) -> &BlobGrants {
        &self.grants
    }

    /// The blob protocol for the router, asking the grants about every request.
    pub(crate) fn protocol(&self) -> iroh_blobs::BlobsProtocol {
        iroh_blobs::BlobsProtocol::new(&self.blobs, Some(self.grants.gatekeeper()))
    }

    fn dir(&self) -> PathBuf {
        self.device.dir().join("blobs")
    }

    /// Refuses to store `size` bytes where the disk has no room for them and some headroom, rather
    /// than letting the blob store run out of space (see [`HEADROOM`]).
    fn check_room(&self, size: u64) -> Result<(), EngineError> {
        let path = self.dir();
        // Where the free space cannot be told, the write itself says whether it fits.
        let Ok(stat) = rustix::fs::statvfs(&path) else {
            return Ok(());
        };
        let free = stat.f_bavail.saturating_mul(stat.f_frsize);
        if free < size.saturating_add(HEADROOM) {
            return Err(EngineError::NoRoom { path, size, free });
        }
        Ok(())
    }

    /// The error for a blob store operation that failed with `error`; a blob store that stopped
    /// altogether says so instead, as only a restart brings it back.
    async fn failed(&self, error: EngineError) -> EngineError {
        if self.blobs.tags().get("backstory").await.is_err() {
            tracing::error!("the blob store stopped: {error}");
            return EngineError::MediaStoreStopped { path: self.dir() };
        }
        error
    }

    /// Waits until what the blob store took in is committed to its database: its commits are
    /// batched, and an entry is acknowledged only once its media is durable too.
    async fn sync(&self) -> Result<(), EngineError> {
        match self.blobs.sync_db().await {
            Ok(()) => Ok(()),
            Err(e) => Err(self.failed(io(&self.dir(), &e)).await),
        }
    }

    /// The size limit for one attachment.
    pub(crate) async fn limit(&self) -> Result<u64, EngineError> {
        Ok(self
            .device
            .blocking(|s| s.setting("media_limit"))
            .await?
            .and_then(|v| v.parse().ok())
            .unwrap_or(crate::media::DEFAULT_LIMIT))
    }

    /// Checks a file and imports it into the blob store; returns the entry kind it makes.
    pub(crate) async fn import(&self, path: &Path) -> Result<Kind, EngineError> {
        let limit = self.limit().await?;
        let p = path.to_path_buf();
        let checked = tokio::task::spawn_blocking(move || crate::media::check(&p, limit))
            .await
            .map_err(|_| EngineError::Stopped)??;
        self.check_room(checked.size)?;
        let tag = match self.blobs.add_path(path).await {
            Ok(tag) => tag,
            Err(e) => {
                return Err(match self.failed(io(path, &e)).await {
                    // The file was read; it is the blob store that could not grow.
                    EngineError::DiskFull { .. } => EngineError::DiskFull { path: self.dir() },
                    other => other,
                });
            }
        };
        self.sync().await?;
        Ok(crate::media::kind_for(MediaRef {
            hash: tag.hash.to_hex(),
            size: checked.size,
            mime: checked.mime,
            name: checked.name,
        }))
    }

    /// Imports bytes made on this device (a snapshot's preview image, a screenshot) into the blob
    /// store; returns the media reference an entry carries.
    pub(crate) async fn import_bytes(
        &self,
        bytes: Vec<u8>,
        mime: &str,
        name: &str,
    ) -> Result<MediaRef, EngineError> {
        let limit = self.limit().await?;
        let size = bytes.len() as u64;
        if size > limit {
            return Err(EngineError::TooLarge {
                path: name.into(),
                size,
                limit,
            });
        }
        self.check_room(size)?;
        let tag = match self.blobs.add_bytes(bytes).await {
            Ok(tag) => tag,
            Err(e) => return Err(self.failed(io(&self.dir(), &e)).await),
        };
        self.sync().await?;
        Ok(MediaRef {
            hash: tag.hash.to_hex(),
            size,
            mime: mime.to_string(),
            name: name.to_string(),
        })
    }

    /// The bytes of a blob held here.
    pub(crate) async fn read(&self, media: &MediaRef) -> Result<Vec<u8>, EngineError> {
        let hash: iroh_blobs::Hash = media
            .hash
            .parse()
            .map_err(|_| EngineError::InvalidInput(format!("bad hash {}", media.hash)))?;
        match self.blobs.get_bytes(hash).await {
            Ok(bytes) => Ok(bytes.to_vec()),
            Err(e) => Err(self.failed(io(&self.dir(), &e)).await),
        }
    }

    /// Fetches a blob from a contact's device unless it is here already, reporting progress as
    /// events; BLAKE3 verifies every byte.
    pub(crate) async fn fetch(
        &self,
        net: Option<&Net>,
        contact: &Contact,
        entry: &EntryId,
        media: &MediaRef,
    ) -> Result<iroh_blobs::Hash, EngineError> {
        use futures::StreamExt;
        use iroh_blobs::api::remote::GetProgressItem;
        let limit = self.limit().await?;
        if media.size > limit {
            return Err(EngineError::TooLarge {
                path: media.name.clone().into(),
                size: media.size,
                limit,
            });
        }
        let hash: iroh_blobs::Hash = media
            .hash
            .parse()
            .map_err(|_| EngineError::InvalidInput(format!("bad hash in entry {entry}")))?;
        let remote = self.blobs.remote();
        match remote.local(hash).await {
            Ok(local) if local.is_complete() => return Ok(hash),
            Ok(_) => {}
            Err(e) => return Err(self.failed(io(&self.dir(), &e)).await),
        }
        self.check_room(media.size)?;
        let peer = contact
            .peer
            .clone()
            .ok_or_else(|| EngineError::InvalidInput(format!("{} is not paired", contact.name)))?;
        let net =
            net.ok_or_else(|| EngineError::InvalidInput("networking is not running".into()))?;
        let p = peer.clone();
        let addrs = self.device.blocking(move |s| s.peer_addrs(&p)).await?;
        let conn = net.connect_blobs(&peer, &addrs).await?;
        let mut progress = Box::pin(remote.fetch(conn, hash).stream());
        let mut reported = 0u64;
        let report = |bytes| {
            self.device.emit(Event::MediaProgress {
                contact: contact.id.clone(),
                entry: entry.clone(),
                bytes,
                total: media.size,
            })
        };
        while let Some(item) = progress.next().await {
            match item {
                // The size in the entry is the sender's word; the bytes that arrive are counted
                // and the transfer stops at the first byte past it (dropping the stream cancels
                // the request), so nobody can fill my disk behind a small announced size.
                GetProgressItem::Progress(bytes) if bytes > media.size => {
                    return Err(EngineError::Oversent {
                        name: media.name.clone(),
                        announced: media.size,
                        received: bytes,
                    });
                }
                GetProgressItem::Progress(bytes) => {
                    if bytes >= reported + (1 << 20) || bytes == media.size {
                        reported = bytes;
                        report(bytes);
                    }
                }
                GetProgressItem::Done(_) => break,
                GetProgressItem::Error(e)
                    if e.iroh_error_code() == Some(iroh_blobs::protocol::ERR_INTERNAL) =>
                {
                    // Their device has the entry but could not read the media from its store.
                    return Err(EngineError::MediaUnavailable {
                        contact: contact.name.clone(),
                        name: media.name.clone(),
                        hash: media.hash.clone(),
                    });
                }
                GetProgressItem::Error(e) => {
                    let refused = e.iroh_error_code() == Some(iroh_blobs::protocol::ERR_PERMISSION);
                    return Err(NetError::Unreachable {
                        peer,
                        reason: if refused {
                            "the device refused: this media is not shared with you".into()
                        } else {
                            e.to_string()
                        },
                    }
                    .into());
                }
            }
        }
        report(media.size);
        Ok(hash)
    }

    /// Writes a blob to a file.
    pub(crate) async fn export(
        &self,
        hash: iroh_blobs::Hash,
        out: &Path,
    ) -> Result<(), EngineError> {
        match self.stored_file(hash).await {
            Some(from) => copy_file(from, out).await,
            None => self.export_from_store(hash, out).await,
        }
    }

    /// Writes a blob the store keeps in no file of its own to a file.
    async fn export_from_store(
        &self,
        hash: iroh_blobs::Hash,
        out: &Path,
    ) -> Result<(), EngineError> {
        match self.blobs.export(hash, out).await {
            Ok(_) => Ok(()),
            Err(e) => Err(self.failed(io(out, &e)).await),
        }
    }

    /// The file the store keeps a complete blob in, whole. A blob's file is written once, while
    /// it arrives or is imported, and never again: its name is its hash, and the store deletes it
    /// by unlinking. None where the blob is not complete or not in a file of its own (small
    /// blobs live in the store's database).
    async fn stored_file(&self, hash: iroh_blobs::Hash) -> Option<PathBuf> {
        let Ok(BlobStatus::Complete { size }) = self.blobs.status(hash).await else {
            return None;
        };
        let file = self.paths.data_path(&hash);
        std::fs::symlink_metadata(&file)
            .is_ok_and(|m| m.is_file() && m.len() == size)
            .then_some(file)
    }

    /// The local copy a window may show: `<data>/media/<hash>.<ext>` (see
    /// [`crate::media::viewing_path`]), a second name of the store's own file where it can be
    /// (the bytes are on the disk once), else written aside and renamed so a cut-short copy is
    /// never taken for a whole one.
    pub(crate) async fn viewing_copy(
        &self,
        hash: iroh_blobs::Hash,
        mime: &str,
    ) -> Result<PathBuf, EngineError> {
        let path = crate::media::viewing_path(self.device.dir(), &hash.to_hex(), mime)?;
        if !path.exists() {
            let part = path.with_extension("part");
            match self.stored_file(hash).await {
                // A second name for the store's file instead of a copy of its bytes: both names
                // are inside the data directory, written by nobody else, and the store's
                // unlinking leaves the other name whole. Copied where no link can be made
                // (another file system).
                Some(from) => {
                    // A copy cut short by a crash may be there.
                    let _absent = std::fs::remove_file(&part);
                    if std::fs::hard_link(&from, &part).is_err() {
                        copy_file(from, &part).await?;
                    }
                }
                None => self.export_from_store(hash, &part).await?,
            }
            std::fs::rename(&part, &path).map_err(|source| EngineError::Io {
                path: path.clone(),
                source,
            })?;
        }
        Ok(path)
    }
}
