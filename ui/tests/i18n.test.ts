import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  dictionaries,
  formatBytes,
  formatDate,
  relativeTime,
  resolveLanguage,
  setLanguage,
  t,
  tn,
  categoryName,
  type Language,
} from '../src/lib/i18n';

const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe('dictionaries', () => {
  const langs = Object.keys(dictionaries) as Language[];
  const reference = Object.keys(dictionaries.en).sort();

  it('offer English and Simplified Chinese', () => {
    expect(langs.sort()).toEqual(['en', 'zh-CN']);
  });

  it.each(langs)('%s has every key, each with text', (lang) => {
    const dict = dictionaries[lang];
    expect(Object.keys(dict).sort()).toEqual(reference);
    for (const key of reference) {
      expect(dict[key as keyof typeof dict].trim(), `${lang} ${key}`).not.toBe('');
    }
  });

  it.each(langs)('%s uses the same placeholders as English', (lang) => {
    for (const key of reference) {
      const k = key as keyof typeof dictionaries.en;
      expect(placeholders(dictionaries[lang][k]), `${lang} ${key}`).toEqual(placeholders(dictionaries.en[k]));
    }
  });

  it('have both plural forms of every plural', () => {
    for (const key of reference) {
      if (key.endsWith('_one')) expect(reference).toContain(key.replace(/_one$/, '_other'));
      if (key.endsWith('_other')) expect(reference).toContain(key.replace(/_other$/, '_one'));
    }
  });
});

describe('t', () => {
  afterEach(() => setLanguage('en'));

  it('fills placeholders and follows the language', () => {
    setLanguage('en');
    expect(t('title.viewer', { name: 'Bob' })).toBe('Bob’s panel');
    setLanguage('zh-CN');
    expect(t('title.viewer', { name: 'Bob' })).toBe('Bob的面板');
  });

  it('picks plural forms', () => {
    setLanguage('en');
    expect(tn('main.mineVisible', 1)).toBe('1 entry visible');
    expect(tn('main.mineVisible', 3)).toBe('3 entries visible');
  });

  it('names default categories in the reader’s language, custom ones as written', () => {
    setLanguage('en');
    expect(categoryName({ id: 'books', name: null })).toBe('Recently read books');
    setLanguage('zh-CN');
    expect(categoryName({ id: 'books', name: null })).toBe('最近读的书');
    expect(categoryName({ id: 'x1', name: 'Plants' })).toBe('Plants');
  });

  it('formats relative times and sizes', () => {
    setLanguage('en');
    const now = Date.UTC(2026, 0, 10, 12);
    expect(relativeTime(now - 10_000, now)).toBe('just now');
    // A peer's timestamp may lie beyond what a JavaScript date holds: words, not a RangeError.
    expect(relativeTime(9e18, now)).toBe('an unknown date');
    expect(relativeTime(-9e18, now)).toBe('an unknown date');
    expect(formatDate(Number.MAX_SAFE_INTEGER)).toBe('an unknown date');
    expect(relativeTime(now - 2 * 3_600_000, now)).toMatch(/2 hr/);
    expect(relativeTime(now + 3 * 86_400_000, now)).toMatch(/in 3 days/);
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1_400_000)).toMatch(/1\.4\s?MB/);
  });
});

describe('formatting', () => {
  afterEach(() => setLanguage('en'));

  it('keeps each language’s formatters apart as the language changes back and forth', () => {
    const at = Date.UTC(2026, 0, 10, 12);
    const now = at + 2 * 3_600_000;
    setLanguage('en');
    const date = formatDate(at);
    const ago = relativeTime(at, now);
    expect(date).toMatch(/2026/);
    expect(ago).toMatch(/2 hr/);
    setLanguage('zh-CN');
    expect(formatDate(at)).toMatch(/2026年/);
    expect(relativeTime(at, now)).toMatch(/2\s?小时前/);
    expect(formatBytes(1_400_000)).not.toBe('');
    setLanguage('en');
    expect(formatDate(at)).toBe(date);
    expect(relativeTime(at, now)).toBe(ago);
  });

  it('makes a formatter once for many dates, not once per date', () => {
    setLanguage('en');
    formatDate(0);
    const made = vi.spyOn(Intl, 'DateTimeFormat');
    try {
      for (let i = 0; i < 50; i++) formatDate(Date.UTC(2026, 0, 1 + i));
      expect(made).not.toHaveBeenCalled();
    } finally {
      made.mockRestore();
    }
  });
});

describe('resolveLanguage', () => {
  it('prefers the stored choice, then the system, then English', () => {
    expect(resolveLanguage('zh-CN', 'en-US')).toBe('zh-CN');
    expect(resolveLanguage(null, 'zh-TW')).toBe('zh-CN');
    expect(resolveLanguage(null, 'en-GB')).toBe('en');
    expect(resolveLanguage(null, 'fr-FR')).toBe('en');
    expect(resolveLanguage('en', 'zh-CN')).toBe('en');
  });
});
