// What a chat item says, in words: messages as written, feedback notices as sentences ("Bob
// commented on “Alps”", "Bob looked at your panel for 34 s"). Shared by the chat window, the
// pop-up at a contact's row and the editor.

import type { ChatItem } from './api';
import { t, tn } from './i18n';

/** A length of time, e.g. "34 s", "2 min 5 s". */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return t('time.seconds', { n: s });
  return t('time.minutes', { m: Math.floor(s / 60), s: s % 60 });
}

/** The headline of a notice: who did what. For a message, its text. */
export function headline(item: ChatItem, name: string): string {
  switch (item.kind) {
    case 'message':
      return item.text;
    case 'comment':
      if (item.from_me) {
        if (item.entry === null) return t('chat.youCommentedPanel', { name });
        if (item.entry_label === null) return t('chat.youCommentedGone', { name });
        return t('chat.youCommented', { entry: item.entry_label });
      }
      if (item.entry === null) return t('chat.commentedPanel', { name });
      if (item.entry_label === null) return t('chat.commentedGone', { name });
      return t('chat.commented', { name, entry: item.entry_label });
    case 'viewed': {
      const base =
        item.open_for_ms > 0
          ? t('chat.looked', { name, time: duration(item.open_for_ms) })
          : t('chat.opened', { name });
      return item.sessions > 1 ? `${base} ${tn('chat.times', item.sessions)}` : base;
    }
  }
}

/** The whole item as one line (notifications, the pop-up). */
export function sentence(item: ChatItem, name: string): string {
  switch (item.kind) {
    case 'message':
      return t('chat.says', { name, text: item.text });
    case 'comment': {
      const said = item.text.trim() ? item.text : item.audio ? t('chat.voice') : '';
      return said ? `${headline(item, name)}: ${said}` : headline(item, name);
    }
    case 'viewed':
      // Just opened: the headline says it all; once it has a length, it is judged.
      if (item.open_for_ms === 0) return headline(item, name);
      return `${headline(item, name)} — ${item.definitely ? t('chat.definitely') : t('chat.viewed')}`;
  }
}
