//! The process poll: list the processes, pick the players among the ones not seen before, and
//! read what they play from their command lines.

use std::collections::HashMap;
use std::os::unix::fs::DirEntryExt;
use std::path::{Path, PathBuf};

use sysinfo::{Pid, Process, ProcessRefreshKind, ProcessesToUpdate, System, UpdateKind};

use super::command_line::parse_command_line;
use super::config::PlayerName;
use super::sighting::{Sighting, SightingSource};

/// The process list between two polls, and the players to look for.
pub(crate) struct ProcessPoll {
    system: System,
    players: Vec<Wanted>,
    /// The processes seen at the last poll, by PID.
    known: HashMap<u32, Known>,
    /// Counts polls, to tell the processes listed by this one.
    round: u64,
}

/// A process seen before.
struct Known {
    /// The inode of its `/proc` entry: the same while the process lives (a new one when its PID
    /// is reused, or, rarely, when the kernel forgot the entry; then its start time decides).
    inode: u64,
    /// When it started (seconds since the Unix epoch).
    start: u64,
    /// Whether it was a player (and so reported).
    player: bool,
    /// Seen within its first second: it may have been a launcher about to become a player
    /// (between `fork` and `exec`), so its command line is read again once.
    young: bool,
    /// The last poll that listed it.
    round: u64,
}

/// A configured player with its program path resolved once.
struct Wanted {
    name: PlayerName,
    /// The configured path with symbolic links resolved, when it exists.
    resolved: Option<PathBuf>,
}

/// The longest process name the kernel keeps (`comm`): 15 bytes.
const COMM_LEN: usize = 15;

/// File kinds a player is handed that are not what it plays.
const NOT_VIDEO: &[&str] = &[
    "conf", "config", "cfg", "ini", "lua", "js", "json", "py", "so", "srt", "ass", "ssa", "vtt",
    "sub", "idx", "sup", "txt", "log", "xml",
];

impl ProcessPoll {
    /// A poll for these players; nothing is listed yet. Blocking (resolves configured paths).
    pub fn new(players: &[String]) -> Result<Self, sysinfo::Error> {
        let mut poll = Self {
            system: System::new()?,
            players: Vec::new(),
            known: HashMap::new(),
            round: 0,
        };
        poll.set_players(players);
        Ok(poll)
    }

    /// Changes the players looked for. Processes not recognised before are looked at again at
    /// the next poll; players already reported are not reported again.
    pub fn set_players(&mut self, players: &[String]) {
        self.players = players
            .iter()
            .map(|configured| {
                let name = PlayerName::parse(configured);
                let resolved = name.path.as_ref().and_then(|path| path.canonicalize().ok());
                Wanted { name, resolved }
            })
            .collect();
        // Players already reported stay known; every other process gets a new look.
        self.known.retain(|_, known| known.player);
    }

    /// Lists the processes and returns what the players not seen at the last poll play.
    /// Blocking.
    ///
    /// Only processes new since the last poll are read (their `/proc` entry's inode tells them
    /// apart from the ones known): a poll of an unchanged system lists `/proc` and reads
    /// nothing else.
    pub fn poll(&mut self, now_ms: i64) -> Vec<Sighting> {
        self.round += 1;
        let round = self.round;
        let mut fresh: Vec<(Pid, u64)> = Vec::new();
        let mut again: Vec<(Pid, u64)> = Vec::new();
        for (pid, inode) in list_proc() {
            match self.known.get_mut(&pid) {
                Some(known) if known.inode == inode => {
                    known.round = round;
                    if known.young {
                        again.push((Pid::from_u32(pid), inode));
                    }
                }
                _ => fresh.push((Pid::from_u32(pid), inode)),
            }
        }
        let mut update: Vec<Pid> = fresh.iter().map(|(pid, _)| *pid).collect();
        // The processes gone are refreshed too: the refresh drops them from the list.
        self.known.retain(|pid, known| {
            let alive = known.round == round;
            if !alive {
                update.push(Pid::from_u32(*pid));
            }
            alive
        });
        if !update.is_empty() {
            let kind = refresh(UpdateKind::OnlyIfNotSet);
            self.system
                .refresh_processes_specifics(ProcessesToUpdate::Some(&update), true, kind);
        }
        if !again.is_empty() {
            let pids: Vec<Pid> = again.iter().map(|(pid, _)| *pid).collect();
            let kind = refresh(UpdateKind::Always);
            self.system
                .refresh_processes_specifics(ProcessesToUpdate::Some(&pids), true, kind);
        }

        let mut found = Vec::new();
        let now_s = u64::try_from(now_ms / 1000).unwrap_or(0);
        for (pid, inode) in fresh.into_iter().chain(again) {
            let Some(process) = self.system.process(pid) else {
                self.known.remove(&pid.as_u32());
                continue;
            };
            let start = process.start_time();
            let before = self.known.get(&pid.as_u32());
            let same_process = before.is_some_and(|known| known.start == start);
            if same_process && before.is_some_and(|known| !known.young) {
                // Its entry was renewed; nothing else changed.
                if let Some(known) = self.known.get_mut(&pid.as_u32()) {
                    known.inode = inode;
                }
                continue;
            }
            let plays = self
                .player_of(process)
                .map(|player| sightings_of(pid, process, player, now_ms));
            let player = plays.is_some();
            let known = Known {
                inode,
                start,
                player,
                young: !player && !same_process && now_s.saturating_sub(start) <= 1,
                round,
            };
            self.known.insert(pid.as_u32(), known);
            found.extend(plays.into_iter().flatten());
        }
        found
    }

    /// The configured player a process is, if it is one: by its name (cut to 15 bytes by the
    /// kernel), its executable's path or file name, its `cmd[0]`, or its Flatpak app id.
    fn player_of(&self, process: &Process) -> Option<&PlayerName> {
        let seen = Seen::of(process);
        if let Some(wanted) = self.players.iter().find(|wanted| wanted.is(&seen)) {
            return Some(&wanted.name);
        }
        let exe = process.exe()?;
        if !exe.starts_with("/app") {
            return None;
        }
        let app_id = flatpak_app_id(&proc_dir(process.pid()))?;
        self.players
            .iter()
            .find(|wanted| wanted.name.path.is_none() && wanted.name.is(&app_id))
            .map(|wanted| &wanted.name)
    }
}

/// What identifies a process as a program.
struct Seen<'a> {
    name: String,
    exe: Option<&'a Path>,
    exe_name: Option<String>,
    arg0: Option<&'a Path>,
    arg0_name: Option<String>,
}

impl<'a> Seen<'a> {
    fn of(process: &'a Process) -> Self {
        let exe = process.exe();
        let arg0 = process.cmd().first().map(|arg| Path::new(arg.as_os_str()));
        let file_name = |path: &Path| {
            path.file_name()
                .map(|name| name.to_string_lossy().into_owned())
        };
        Self {
            name: process.name().to_string_lossy().into_owned(),
            exe,
            exe_name: exe.and_then(file_name),
            arg0,
            arg0_name: arg0.and_then(file_name),
        }
    }
}

impl Wanted {
    fn is(&self, seen: &Seen<'_>) -> bool {
        if let Some(path) = &self.name.path {
            let resolved = self.resolved.as_deref();
            return seen
                .exe
                .is_some_and(|exe| exe == path || Some(exe) == resolved)
                || seen
                    .arg0
                    .is_some_and(|arg0| arg0 == path || Some(arg0) == resolved);
        }
        (self.name.name.len() <= COMM_LEN && self.name.is(&seen.name))
            || seen
                .exe_name
                .as_deref()
                .is_some_and(|name| self.name.is(name))
            || seen
                .arg0_name
                .as_deref()
                .is_some_and(|name| self.name.is(name))
    }
}

/// What to read of a process: its command line and executable (`when`), nothing else, no
/// threads.
fn refresh(when: UpdateKind) -> ProcessRefreshKind {
    ProcessRefreshKind::nothing()
        .with_cmd(when)
        .with_exe(when)
        .without_tasks()
}

/// The processes in `/proc`, with their entry's inode.
fn list_proc() -> Vec<(u32, u64)> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        tracing::warn!("process poll: /proc cannot be listed");
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| {
            let pid = entry.file_name().to_str()?.parse::<u32>().ok()?;
            Some((pid, entry.ino()))
        })
        .collect()
}

/// A process's folder in `/proc`.
fn proc_dir(pid: Pid) -> PathBuf {
    PathBuf::from(format!("/proc/{}", pid.as_u32()))
}

/// What one player process plays, from its command line.
fn sightings_of(pid: Pid, process: &Process, player: &PlayerName, now_ms: i64) -> Vec<Sighting> {
    let cmd: Vec<String> = process
        .cmd()
        .iter()
        .map(|arg| arg.to_string_lossy().into_owned())
        .collect();
    let proc_dir = proc_dir(pid);
    let cwd = std::fs::read_link(proc_dir.join("cwd")).ok();
    let flatpak = process
        .exe()
        .filter(|exe| exe.starts_with("/app"))
        .and_then(|_| flatpak_app_id(&proc_dir));
    let played_at_ms = i64::try_from(process.start_time())
        .ok()
        .map(|seconds| seconds.saturating_mul(1000));
    parse_command_line(&cmd, cwd.as_deref())
        .into_iter()
        .filter(|target| playable(target, &proc_dir))
        .map(|target| {
            let name = flatpak.clone().unwrap_or_else(|| player.name.clone());
            let mut sighting = Sighting::new(name, target, SightingSource::Poll, now_ms);
            sighting.played_at_ms = played_at_ms;
            sighting
        })
        .collect()
}

/// Whether a target is worth reporting: a URL, or a path naming an existing file (seen from the
/// host or from inside the process's sandbox) that is not a subtitle, script or settings file.
fn playable(target: &str, proc_dir: &Path) -> bool {
    if !target.starts_with('/') {
        return true;
    }
    let path = Path::new(target);
    let kind = path
        .extension()
        .map(|extension| extension.to_string_lossy().to_ascii_lowercase());
    if kind.is_some_and(|kind| NOT_VIDEO.contains(&kind.as_str())) {
        return false;
    }
    path.is_file()
        || proc_dir
            .join("root")
            .join(path.strip_prefix("/").unwrap_or(path))
            .is_file()
}

/// A Flatpak app's id, from `[Application] name=` in `/proc/PID/root/.flatpak-info`.
fn flatpak_app_id(proc_dir: &Path) -> Option<String> {
    let info = std::fs::read_to_string(proc_dir.join("root/.flatpak-info")).ok()?;
    let mut in_application = false;
    for line in info.lines().map(str::trim) {
        if line.starts_with('[') {
            in_application = line == "[Application]";
        } else if in_application && let Some(name) = line.strip_prefix("name=") {
            return Some(name.trim().to_owned()).filter(|name| !name.is_empty());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_flatpak_app_id_is_read_from_its_info_file() {
        let proc_dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(proc_dir.path().join("root")).unwrap();
        std::fs::write(
            proc_dir.path().join("root/.flatpak-info"),
            "[Instance]\nname=not-this\n\n[Application]\nruntime=runtime/org.freedesktop.Platform\nname=io.mpv.Mpv\n",
        )
        .unwrap();
        assert_eq!(
            flatpak_app_id(proc_dir.path()).as_deref(),
            Some("io.mpv.Mpv")
        );
        assert_eq!(flatpak_app_id(Path::new("/nonexistent")), None);
    }

    #[test]
    fn only_urls_and_existing_video_files_are_playable() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["clip.mkv", "subs.srt", "mpv.conf", "no-extension"] {
            std::fs::write(dir.path().join(name), b"").unwrap();
        }
        let proc_dir = Path::new("/nonexistent");
        let path = |name: &str| dir.path().join(name).display().to_string();
        assert!(playable("https://example.org/v", proc_dir));
        assert!(playable(&path("clip.mkv"), proc_dir));
        assert!(playable(&path("no-extension"), proc_dir));
        assert!(!playable(&path("subs.srt"), proc_dir));
        assert!(!playable(&path("mpv.conf"), proc_dir));
        assert!(!playable(&path("missing.mkv"), proc_dir));
        assert!(!playable(&dir.path().display().to_string(), proc_dir));
    }
}
