import { afterEach, describe, expect, it } from 'vitest';
import { duration, headline, sentence } from '../src/lib/chat';
import { setLanguage } from '../src/lib/i18n';
import { chatItem } from './fixtures';

describe('chat items in words', () => {
  afterEach(() => setLanguage('en'));

  it('say who commented on what, and who looked for how long', () => {
    const comment = chatItem({ kind: 'comment', entry: 'e1', entry_label: 'Alps', text: 'Which valley?', audio: null });
    expect(sentence(comment, 'Bob')).toBe('Bob commented on “Alps”: Which valley?');
    const voice = chatItem({
      kind: 'comment',
      entry: null,
      entry_label: null,
      text: '',
      audio: { hash: 'h', size: 3, mime: 'audio/ogg', name: 'v.ogg' },
    });
    expect(sentence(voice, 'Bob')).toBe('Bob commented on your panel: a voice comment');
    const looked = chatItem({ kind: 'viewed', open_for_ms: 34_000, definitely: true, sessions: 1, entries: 2 });
    expect(sentence(looked, 'Bob')).toBe('Bob looked at your panel for 34 s — Definitely viewed');
    const twice = chatItem({ kind: 'viewed', open_for_ms: 125_000, definitely: false, sessions: 2, entries: 0 });
    expect(headline(twice, 'Bob')).toBe('Bob looked at your panel for 2 min 5 s (2 times)');
    const opened = chatItem({ kind: 'viewed', open_for_ms: 0, definitely: false, sessions: 1, entries: 0 });
    expect(sentence(opened, 'Bob')).toBe('Bob opened your panel');
    const mine = chatItem({ kind: 'comment', from_me: true, entry: 'e9', entry_label: null, text: 'x', audio: null });
    expect(headline(mine, 'Bob')).toBe('You commented on an entry Bob has since removed');
  });

  it('speak Chinese too', () => {
    setLanguage('zh-CN');
    const looked = chatItem({ kind: 'viewed', open_for_ms: 11_000, definitely: true, sessions: 1, entries: 1 });
    expect(sentence(looked, 'Bob')).toBe('Bob看了你的面板 11 秒 — 确实看过');
    expect(duration(61_000)).toBe('1 分 1 秒');
  });
});
