//! Players on the D-Bus session bus (MPRIS): every `org.mpris.MediaPlayer2.*` name is followed,
//! and a video is reported when it starts playing.

mod playback;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use futures::StreamExt;
use tokio::sync::{mpsc, oneshot};
use zbus::fdo::{DBusProxy, PropertiesProxy};
use zbus::message::Type;
use zbus::names::InterfaceName;
use zbus::proxy::CacheProperties;
use zbus::zvariant::{OwnedValue, Value};
use zbus::{Connection, MatchRule, Message, MessageStream};

use self::playback::{Metadata, Playback, Status};
use super::config::PlayerName;
use super::history::now_ms;
use super::sighting::{Sighting, SightingSource, target_of};

const BUS_PREFIX: &str = "org.mpris.MediaPlayer2.";
const PATH: &str = "/org/mpris/MediaPlayer2";
const ROOT: &str = "org.mpris.MediaPlayer2";
const PLAYER: &str = "org.mpris.MediaPlayer2.Player";

/// A player that does not answer within this is skipped.
const ANSWER: Duration = Duration::from_secs(2);

/// What the MPRIS source needs.
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    pub players: Vec<PlayerName>,
    pub min_play: Duration,
    /// The bus address; `None` for the session bus of the environment.
    pub address: Option<String>,
}

/// One player connection on the bus (one unique name; it may own several MPRIS names).
struct Followed {
    names: HashSet<String>,
    player: String,
    playback: Playback,
}

/// Follows the players until `found` closes. Without a session bus the source is off (logged).
/// `ready` is answered once the players present are read and changes are followed.
pub(crate) async fn run(
    settings: Settings,
    found: mpsc::Sender<Sighting>,
    ready: oneshot::Sender<()>,
) {
    let mut ready = Some(ready);
    if let Err(error) = follow(&settings, &found, &mut ready).await {
        tracing::warn!(%error, "MPRIS: the session bus cannot be followed, this source is off");
    }
    if let Some(ready) = ready {
        let _ = ready.send(());
    }
}

async fn follow(
    settings: &Settings,
    found: &mpsc::Sender<Sighting>,
    ready: &mut Option<oneshot::Sender<()>>,
) -> zbus::Result<()> {
    let connection = match &settings.address {
        Some(address) => {
            zbus::connection::Builder::address(address.as_str())?
                .build()
                .await?
        }
        None => Connection::session().await?,
    };
    // Follow changes before listing the players, so none starts unseen in between.
    let owners_rule = MatchRule::builder()
        .msg_type(Type::Signal)
        .sender("org.freedesktop.DBus")?
        .interface("org.freedesktop.DBus")?
        .member("NameOwnerChanged")?
        .arg0ns("org.mpris.MediaPlayer2")?
        .build();
    let changes_rule = MatchRule::builder()
        .msg_type(Type::Signal)
        .interface("org.freedesktop.DBus.Properties")?
        .member("PropertiesChanged")?
        .path(PATH)?
        .build();
    let mut owners = MessageStream::for_match_rule(owners_rule, &connection, Some(256)).await?;
    let mut changes = MessageStream::for_match_rule(changes_rule, &connection, Some(256)).await?;
    let bus = DBusProxy::new(&connection).await?;

    let mut followed: HashMap<String, Followed> = HashMap::new();
    for name in bus.list_names().await? {
        let name = name.to_string();
        if !name.starts_with(BUS_PREFIX) {
            continue;
        }
        let Ok(owner) = bus.get_name_owner(name.as_str().try_into()?).await else {
            continue;
        };
        let report = appeared(
            &connection,
            settings,
            &mut followed,
            name,
            owner.to_string(),
        )
        .await;
        if send(found, report).await.is_err() {
            return Ok(());
        }
    }
    tracing::debug!(players = followed.len(), "MPRIS: following the session bus");
    if let Some(ready) = ready.take() {
        let _ = ready.send(());
    }

    loop {
        let report = tokio::select! {
            biased;
            message = owners.next() => match message {
                Some(Ok(message)) => owner_changed(&connection, settings, &mut followed, &message).await,
                Some(Err(error)) => {
                    tracing::debug!(%error, "MPRIS: unreadable NameOwnerChanged");
                    None
                }
                None => return Ok(()),
            },
            message = changes.next() => match message {
                Some(Ok(message)) => properties_changed(&connection, settings, &mut followed, &message).await,
                Some(Err(error)) => {
                    tracing::debug!(%error, "MPRIS: unreadable PropertiesChanged");
                    None
                }
                None => return Ok(()),
            },
        };
        if send(found, report).await.is_err() {
            return Ok(());
        }
    }
}

/// Passes a sighting on; an error when the watcher is gone.
async fn send(found: &mpsc::Sender<Sighting>, report: Option<Sighting>) -> Result<(), ()> {
    match report {
        Some(sighting) => found.send(sighting).await.map_err(drop),
        None => Ok(()),
    }
}

/// A name gained or lost its owner.
async fn owner_changed(
    connection: &Connection,
    settings: &Settings,
    followed: &mut HashMap<String, Followed>,
    message: &Message,
) -> Option<Sighting> {
    let (name, old, new): (String, String, String) = message.body().deserialize().ok()?;
    if !name.starts_with(BUS_PREFIX) {
        return None;
    }
    if !old.is_empty()
        && let Some(player) = followed.get_mut(&old)
    {
        player.names.remove(&name);
        if player.names.is_empty() {
            followed.remove(&old);
        }
    }
    if new.is_empty() {
        return None;
    }
    appeared(connection, settings, followed, name, new).await
}

/// A player appeared: read it, follow it if it is a configured one, and report what it plays
/// if it is playing.
async fn appeared(
    connection: &Connection,
    settings: &Settings,
    followed: &mut HashMap<String, Followed>,
    name: String,
    owner: String,
) -> Option<Sighting> {
    if let Some(player) = followed.get_mut(&owner) {
        player.names.insert(name);
        return None;
    }
    let root = get_all(connection, &owner, ROOT).await.unwrap_or_default();
    let identity = text_property(&root, "Identity").unwrap_or_default();
    let desktop_entry = text_property(&root, "DesktopEntry").unwrap_or_default();
    let suffix = name.strip_prefix(BUS_PREFIX).unwrap_or(&name);
    if !settings
        .players
        .iter()
        .any(|player| player.is_mpris(suffix, &desktop_entry, &identity))
    {
        tracing::debug!(name, identity, "MPRIS: not a configured player, ignored");
        return None;
    }
    let player_name = [desktop_entry.as_str(), identity.as_str()]
        .into_iter()
        .find(|text| !text.trim().is_empty())
        .map(str::to_owned)
        .unwrap_or_else(|| {
            suffix
                .split(".instance")
                .next()
                .unwrap_or(suffix)
                .to_owned()
        });
    let props = get_all(connection, &owner, PLAYER)
        .await
        .unwrap_or_default();
    let mut player = Followed {
        names: HashSet::from([name]),
        player: player_name,
        playback: Playback::default(),
    };
    let status = text_property(&props, "PlaybackStatus").map(|text| Status::parse(&text));
    let metadata = props.get("Metadata").map(|value| metadata_of(value));
    let report = player.playback.apply(status, metadata, settings.min_play);
    let sighting = report.and_then(|track| sighting_of(&player.player, track));
    followed.insert(owner, player);
    sighting
}

/// A followed player's properties changed.
async fn properties_changed(
    connection: &Connection,
    settings: &Settings,
    followed: &mut HashMap<String, Followed>,
    message: &Message,
) -> Option<Sighting> {
    let header = message.header();
    let sender = header.sender()?.to_string();
    let player = followed.get_mut(&sender)?;
    let (interface, changed, invalidated): (String, HashMap<String, OwnedValue>, Vec<String>) =
        message.body().deserialize().ok()?;
    if interface != PLAYER {
        return None;
    }
    let mut status = changed
        .get("PlaybackStatus")
        .and_then(|value| text(value))
        .map(|text| Status::parse(&text));
    let mut metadata = changed.get("Metadata").map(|value| metadata_of(value));
    if invalidated
        .iter()
        .any(|name| name == "PlaybackStatus" || name == "Metadata")
    {
        let props = get_all(connection, &sender, PLAYER)
            .await
            .unwrap_or_default();
        status =
            status.or_else(|| text_property(&props, "PlaybackStatus").map(|t| Status::parse(&t)));
        metadata = metadata.or_else(|| props.get("Metadata").map(|value| metadata_of(value)));
    }
    let track = player.playback.apply(status, metadata, settings.min_play)?;
    sighting_of(&player.player, track)
}

/// A reported track as a sighting: its URL (a `file://` one as a path), or for a player that
/// tells only a title, the title.
fn sighting_of(player: &str, track: Metadata) -> Option<Sighting> {
    let target = match track.url.as_deref().and_then(target_of) {
        Some(target) => target,
        None => track.title.clone()?.trim().to_owned(),
    };
    let mut sighting = Sighting::new(player, target, SightingSource::Mpris, now_ms());
    sighting.title = track.title.filter(|title| !title.trim().is_empty());
    sighting.duration_ms = track
        .length_us
        .and_then(|length| u64::try_from(length).ok())
        .map(|length| length / 1000);
    Some(sighting)
}

/// All properties of one interface of a player; `None` when it does not answer in time.
async fn get_all(
    connection: &Connection,
    owner: &str,
    interface: &'static str,
) -> Option<HashMap<String, OwnedValue>> {
    let call = async {
        let proxy = PropertiesProxy::builder(connection)
            .destination(owner.to_owned())?
            .path(PATH)?
            .cache_properties(CacheProperties::No)
            .build()
            .await?;
        let interface = InterfaceName::from_static_str_unchecked(interface);
        Ok::<_, zbus::Error>(proxy.get_all(interface).await?)
    };
    match tokio::time::timeout(ANSWER, call).await {
        Ok(Ok(props)) => Some(props),
        Ok(Err(error)) => {
            tracing::debug!(owner, interface, %error, "MPRIS: properties unreadable");
            None
        }
        Err(_) => {
            tracing::debug!(owner, interface, "MPRIS: no answer in time");
            None
        }
    }
}

fn text_property(props: &HashMap<String, OwnedValue>, name: &str) -> Option<String> {
    props.get(name).and_then(|value| text(value))
}

/// A string value, looking through variants.
fn text(value: &Value<'_>) -> Option<String> {
    match value {
        Value::Str(text) => Some(text.as_str().to_owned()),
        Value::Value(inner) => text(inner),
        _ => None,
    }
}

/// A number of microseconds, whatever integer or float type the player sends.
fn micros(value: &Value<'_>) -> Option<i64> {
    match value {
        Value::I64(n) => Some(*n),
        Value::U64(n) => i64::try_from(*n).ok(),
        Value::I32(n) => Some(i64::from(*n)),
        Value::U32(n) => Some(i64::from(*n)),
        Value::F64(n) if n.is_finite() => Some(*n as i64),
        Value::Value(inner) => micros(inner),
        _ => None,
    }
}

/// The title, URL and length of an `a{sv}` metadata value.
fn metadata_of(value: &Value<'_>) -> Metadata {
    let value = match value {
        Value::Value(inner) => inner,
        other => other,
    };
    let Value::Dict(dict) = value else {
        return Metadata::default();
    };
    let mut metadata = Metadata::default();
    for (key, value) in dict.iter() {
        match text(key).as_deref() {
            Some("xesam:title") => metadata.title = text(value),
            Some("xesam:url") => metadata.url = text(value),
            Some("mpris:length") => metadata.length_us = micros(value),
            _ => {}
        }
    }
    metadata
}
