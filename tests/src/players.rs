//! Stand-ins for video players: real processes that wait until killed, started under players'
//! names (a copy of one small program per name) with the argument forms people use, and a test
//! MPRIS player served on a private D-Bus session bus.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use zbus::object_server::InterfaceRef;
use zbus::zvariant::{OwnedValue, Value};

/// A program that waits until it is killed, whatever its arguments: built once per test run.
fn waiting_program() -> &'static Path {
    static PROGRAM: OnceLock<PathBuf> = OnceLock::new();
    PROGRAM.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("backstory-players-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a folder for the stand-in player");
        let source = dir.join("waiting.c");
        std::fs::write(
            &source,
            "#include <unistd.h>\nint main(void) { for (;;) pause(); return 0; }\n",
        )
        .expect("write the stand-in player's source");
        let program = dir.join("waiting");
        let status = Command::new("cc")
            .arg("-O2")
            .arg("-o")
            .arg(&program)
            .arg(&source)
            .status()
            .expect("a C compiler (cc) builds the stand-in player");
        assert!(status.success(), "cc failed");
        program
    })
}

/// Player processes, killed when dropped.
#[derive(Default)]
pub struct Players(Vec<Child>);

impl Players {
    /// Starts the waiting program, copied as `dir/name`, with `args`, in `cwd`; returns its pid.
    pub fn start(&mut self, dir: &Path, name: &str, args: &[&str], cwd: &Path) -> u32 {
        std::fs::create_dir_all(dir).expect("the players' folder");
        let program = dir.join(name);
        if !program.exists() {
            std::fs::copy(waiting_program(), &program).expect("copy the stand-in player");
        }
        // A copy just written may still be open in a process forked meanwhile: try again.
        for _ in 0..100 {
            match Command::new(&program)
                .args(args)
                .current_dir(cwd)
                .stdin(Stdio::null())
                .spawn()
            {
                Ok(child) => {
                    let pid = child.id();
                    self.0.push(child);
                    return pid;
                }
                Err(e) if e.kind() == std::io::ErrorKind::ExecutableFileBusy => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) => panic!("cannot start {}: {e}", program.display()),
            }
        }
        panic!("{} stayed busy", program.display());
    }

    /// Stops every player started so far.
    pub fn stop_all(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.0.clear();
    }
}

impl Drop for Players {
    fn drop(&mut self) {
        self.stop_all();
    }
}

/// Empty files standing for videos, in `dir`.
pub fn videos(dir: &Path, names: &[&str]) {
    std::fs::create_dir_all(dir).expect("the videos' folder");
    for name in names {
        std::fs::write(dir.join(name), b"").expect("a stand-in video");
    }
}

/// A private D-Bus session bus, stopped when dropped.
pub struct Bus {
    daemon: Child,
    /// Its address, for `DBUS_SESSION_BUS_ADDRESS`.
    pub address: String,
}

impl Bus {
    /// Starts `dbus-daemon --session` and reads its address.
    pub fn start() -> Self {
        let mut daemon = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--print-address"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("dbus-daemon runs a private session bus (Debian package dbus-daemon)");
        let mut line = String::new();
        BufReader::new(daemon.stdout.take().expect("its stdout"))
            .read_line(&mut line)
            .expect("its address");
        let address = line.trim().to_owned();
        assert!(!address.is_empty(), "dbus-daemon printed no address");
        Self { daemon, address }
    }
}

impl Drop for Bus {
    fn drop(&mut self) {
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
    }
}

const PATH: &str = "/org/mpris/MediaPlayer2";

/// `org.mpris.MediaPlayer2`, introducing itself as VLC.
struct Root;

#[zbus::interface(name = "org.mpris.MediaPlayer2")]
impl Root {
    #[zbus(property)]
    fn identity(&self) -> String {
        "VLC media player".to_owned()
    }

    #[zbus(property)]
    fn desktop_entry(&self) -> String {
        "vlc".to_owned()
    }
}

/// What the test player plays.
#[derive(Clone, Default)]
pub struct Track {
    /// `Playing`, `Paused` or `Stopped`.
    pub status: String,
    /// `xesam:title`.
    pub title: String,
    /// `xesam:url`.
    pub url: String,
    /// `mpris:length`, in microseconds.
    pub length_us: i64,
}

#[zbus::interface(name = "org.mpris.MediaPlayer2.Player")]
impl Track {
    #[zbus(property)]
    fn playback_status(&self) -> String {
        self.status.clone()
    }

    #[zbus(property)]
    fn metadata(&self) -> HashMap<String, OwnedValue> {
        let mut metadata = HashMap::new();
        let mut put = |key: &str, value: Value<'_>| {
            if let Ok(v) = OwnedValue::try_from(value) {
                metadata.insert(key.to_owned(), v);
            }
        };
        put("xesam:title", Value::from(self.title.clone()));
        put("xesam:url", Value::from(self.url.clone()));
        put("mpris:length", Value::from(self.length_us));
        metadata
    }
}

/// A player on the bus, holding `org.mpris.MediaPlayer2.vlc`.
pub struct MprisPlayer {
    _connection: zbus::Connection,
    track: InterfaceRef<Track>,
}

impl MprisPlayer {
    /// Appears on the bus with a track.
    pub async fn appear(bus: &Bus, track: Track) -> Self {
        let connection = zbus::connection::Builder::address(bus.address.as_str())
            .expect("the bus address")
            .serve_at(PATH, Root)
            .expect("serve the root interface")
            .serve_at(PATH, track)
            .expect("serve the player interface")
            .name("org.mpris.MediaPlayer2.vlc")
            .expect("the player's bus name")
            .build()
            .await
            .expect("connect the test player");
        let track = connection
            .object_server()
            .interface::<_, Track>(PATH)
            .await
            .expect("the player interface");
        Self {
            _connection: connection,
            track,
        }
    }

    /// Changes what it plays and says so, metadata first, as players do.
    pub async fn play(&self, change: impl FnOnce(&mut Track)) {
        change(&mut *self.track.get_mut().await);
        let emitter = self.track.signal_emitter();
        let track = self.track.get().await;
        track
            .metadata_changed(emitter)
            .await
            .expect("announce the metadata");
        track
            .playback_status_changed(emitter)
            .await
            .expect("announce the status");
    }
}
