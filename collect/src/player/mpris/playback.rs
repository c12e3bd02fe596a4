//! One MPRIS player's playback as its properties tell it, and the decision to report a track.
//! Pure: property changes in, a track to report (or not) out.

use std::time::Duration;

/// `PlaybackStatus`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Status {
    /// Not told yet.
    #[default]
    Unknown,
    Playing,
    Paused,
    Stopped,
}

impl Status {
    pub fn parse(text: &str) -> Self {
        match text {
            "Playing" => Self::Playing,
            "Paused" => Self::Paused,
            "Stopped" => Self::Stopped,
            _ => Self::Unknown,
        }
    }
}

/// The part of `Metadata` the watcher uses.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Metadata {
    /// `xesam:title`.
    pub title: Option<String>,
    /// `xesam:url`.
    pub url: Option<String>,
    /// `mpris:length`, in microseconds.
    pub length_us: Option<i64>,
}

impl Metadata {
    /// What tells one track from another: its URL, else its title.
    fn track(&self) -> Option<&str> {
        self.url
            .as_deref()
            .or(self.title.as_deref())
            .map(str::trim)
            .filter(|track| !track.is_empty())
    }
}

/// A player's playback.
#[derive(Clone, Debug, Default)]
pub(crate) struct Playback {
    pub status: Status,
    pub metadata: Metadata,
}

impl Playback {
    /// Applies changed properties (`None`: unchanged) and returns the track to report: one
    /// that starts playing (the status turns `Playing`) or replaces another while playing. A
    /// player that is paused or stopped reports nothing (a session restored at start), nor does
    /// a track whose known length is under `min_play`.
    pub fn apply(
        &mut self,
        status: Option<Status>,
        metadata: Option<Metadata>,
        min_play: Duration,
    ) -> Option<Metadata> {
        let was_playing = self.status == Status::Playing;
        let before = self.metadata.track().map(str::to_owned);
        if let Some(status) = status {
            self.status = status;
        }
        if let Some(metadata) = metadata {
            self.metadata = metadata;
        }
        if self.status != Status::Playing {
            return None;
        }
        let track = self.metadata.track()?;
        if was_playing && before.as_deref() == Some(track) {
            return None;
        }
        let too_short = self
            .metadata
            .length_us
            .and_then(|length| u64::try_from(length).ok())
            .is_some_and(|length| Duration::from_micros(length) < min_play);
        if too_short {
            return None;
        }
        Some(self.metadata.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    fn video(url: &str, minutes: i64) -> Metadata {
        Metadata {
            title: Some(format!("title of {url}")),
            url: Some(url.to_owned()),
            length_us: Some(minutes * 60_000_000),
        }
    }

    #[test]
    fn a_player_appearing_paused_is_reported_when_it_plays() {
        let mut playback = Playback::default();
        let paused = playback.apply(Some(Status::Paused), Some(video("file:///a", 30)), MINUTE);
        assert_eq!(paused, None);
        let playing = playback.apply(Some(Status::Playing), None, MINUTE);
        assert_eq!(playing, Some(video("file:///a", 30)));
    }

    #[test]
    fn a_player_appearing_playing_is_reported_at_once() {
        let mut playback = Playback::default();
        let found = playback.apply(Some(Status::Playing), Some(video("file:///a", 30)), MINUTE);
        assert_eq!(found, Some(video("file:///a", 30)));
        assert_eq!(
            playback.apply(None, Some(video("file:///a", 30)), MINUTE),
            None
        );
    }

    #[test]
    fn a_new_track_while_playing_is_reported() {
        let mut playback = Playback::default();
        playback.apply(Some(Status::Playing), Some(video("file:///a", 30)), MINUTE);
        let next = playback.apply(None, Some(video("file:///b", 30)), MINUTE);
        assert_eq!(next, Some(video("file:///b", 30)));
    }

    #[test]
    fn a_track_known_before_playing_starts_is_reported_once_metadata_follows() {
        let mut playback = Playback::default();
        assert_eq!(playback.apply(Some(Status::Playing), None, MINUTE), None);
        let found = playback.apply(None, Some(video("file:///a", 30)), MINUTE);
        assert_eq!(found, Some(video("file:///a", 30)));
    }

    #[test]
    fn short_tracks_are_ignored_and_unknown_lengths_are_not() {
        let mut playback = Playback::default();
        let short = Metadata {
            length_us: Some(59_000_000),
            ..video("file:///a", 0)
        };
        assert_eq!(
            playback.apply(Some(Status::Playing), Some(short), MINUTE),
            None
        );
        let unknown = Metadata {
            length_us: None,
            ..video("file:///b", 0)
        };
        assert!(playback.apply(None, Some(unknown), MINUTE).is_some());
    }

    #[test]
    fn a_title_alone_is_a_track() {
        let mut playback = Playback::default();
        let totem = Metadata {
            title: Some("Holiday".into()),
            url: None,
            length_us: None,
        };
        assert_eq!(
            playback.apply(Some(Status::Playing), Some(totem.clone()), MINUTE),
            Some(totem)
        );
    }

    #[test]
    fn pausing_and_playing_again_reports_again() {
        // The watcher then keeps it to one a day per video.
        let mut playback = Playback::default();
        playback.apply(Some(Status::Playing), Some(video("file:///a", 30)), MINUTE);
        assert_eq!(playback.apply(Some(Status::Paused), None, MINUTE), None);
        assert!(
            playback
                .apply(Some(Status::Playing), None, MINUTE)
                .is_some()
        );
    }
}
