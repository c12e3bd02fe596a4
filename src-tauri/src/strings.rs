//! The few strings the shell itself shows (tray menu, notifications), in every app language.

/// A string of the shell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Text {
    /// Tray menu: show the main window.
    Open,
    /// Tray menu: quit.
    Quit,
    /// Tray tooltip with a count.
    Unseen,
    /// Notification title: a contact's panel changed.
    Updated,
    /// Notification body.
    UpdatedBody,
    /// Tray menu: the inbox, with its count.
    Inbox,
    /// Notification title: the video watcher noticed a video.
    Watched,
    /// Notification body for a noticed video.
    WatchedBody,
    /// Notification: a chat message (`{name}: {text}`).
    Message,
    /// Notification: a comment on an entry of my panel.
    Commented,
    /// Notification: a comment on my panel as a whole.
    CommentedPanel,
    /// Notification: a voice comment.
    Voice,
    /// Notification: they looked at my panel, for `{s}` seconds.
    Looked,
    /// Notification: they looked at my panel for at least the threshold.
    LookedLong,
    /// Notification: and more items.
    More,
}

/// The text in a language (`en` or `zh-CN`; anything else is English). `{name}` and `{n}` are
/// filled in by the caller.
pub fn text(language: &str, t: Text) -> &'static str {
    let zh = language.starts_with("zh");
    match (t, zh) {
        (Text::Open, false) => "Open Backstory",
        (Text::Open, true) => "打开 Backstory",
        (Text::Quit, false) => "Quit",
        (Text::Quit, true) => "退出",
        (Text::Unseen, false) => "Backstory — {n} unseen",
        (Text::Unseen, true) => "Backstory — {n} 条未读",
        (Text::Updated, false) => "{name} updated their panel",
        (Text::Updated, true) => "{name} 更新了背景",
        (Text::UpdatedBody, false) => "{n} new or changed entries",
        (Text::UpdatedBody, true) => "{n} 条新的或修改过的内容",
        (Text::Inbox, false) => "Inbox ({n})",
        (Text::Inbox, true) => "待确认（{n}）",
        (Text::Watched, false) => "You watched “{name}”",
        (Text::Watched, true) => "你观看了“{name}”",
        (Text::WatchedBody, false) => {
            "Add it to a panel? It stays on this device until you approve it."
        }
        (Text::WatchedBody, true) => "要添加到背景里吗？确认之前它只保留在这台设备上。",
        (Text::Message, false) => "{name}: {text}",
        (Text::Message, true) => "{name}：{text}",
        (Text::Commented, false) => "{name} commented on “{entry}”: {text}",
        (Text::Commented, true) => "{name}评论了“{entry}”：{text}",
        (Text::CommentedPanel, false) => "{name} commented on your panel: {text}",
        (Text::CommentedPanel, true) => "{name}评论了你的面板：{text}",
        (Text::Voice, false) => "(voice comment)",
        (Text::Voice, true) => "（语音评论）",
        (Text::Looked, false) => "{name} looked at your panel for {s} s",
        (Text::Looked, true) => "{name}看了你的面板 {s} 秒",
        (Text::LookedLong, false) => "{name} looked at your panel for {s} s — definitely viewed",
        (Text::LookedLong, true) => "{name}看了你的面板 {s} 秒——确实看过了",
        (Text::More, false) => "and {n} more",
        (Text::More, true) => "另有 {n} 条",
    }
}

/// The language the shell speaks for an engine: its setting, else the system's.
pub async fn language_of(engine: &backstory_core::Engine) -> String {
    let setting = engine
        .run(backstory_core::op::Settings {})
        .await
        .ok()
        .and_then(|p| p.language);
    language(setting.as_deref())
}

/// The language the shell speaks: the setting, else the system's `LANG`.
pub fn language(setting: Option<&str>) -> String {
    setting
        .map(str::to_string)
        .or_else(|| std::env::var("LANG").ok())
        .unwrap_or_else(|| "en".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_languages_have_every_text() {
        for t in [
            Text::Open,
            Text::Quit,
            Text::Unseen,
            Text::Updated,
            Text::UpdatedBody,
            Text::Inbox,
            Text::Watched,
            Text::WatchedBody,
            Text::Message,
            Text::Commented,
            Text::CommentedPanel,
            Text::Voice,
            Text::Looked,
            Text::LookedLong,
            Text::More,
        ] {
            assert_ne!(text("en", t), text("zh-CN", t), "{t:?}");
        }
        assert_eq!(text("zh_CN.UTF-8", Text::Quit), "退出");
        assert_eq!(text("de_DE.UTF-8", Text::Quit), "Quit");
    }
}
