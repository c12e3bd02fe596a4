// Every string a person reads goes through here: `t(key, vars)` in the current language, plural
// forms with `tn`, and dates, relative times and sizes formatted by Intl for that language.

import { en, type MessageKey } from './locales/en';
import { zhCN } from './locales/zh-CN';

export type { MessageKey };
export type Language = 'en' | 'zh-CN';

export const dictionaries: Record<Language, Record<MessageKey, string>> = { en, 'zh-CN': zhCN };

/** The languages offered in settings, each named in itself. */
export const languages: { code: Language; name: string }[] = [
  { code: 'en', name: 'English' },
  { code: 'zh-CN', name: '简体中文' },
];

/** Picks a language we have for a stored choice or a browser language tag. */
export function resolveLanguage(chosen: string | null | undefined, system?: string): Language {
  for (const tag of [chosen, system]) {
    if (!tag) continue;
    const lower = tag.toLowerCase();
    if (lower.startsWith('zh')) return 'zh-CN';
    if (lower.startsWith('en')) return 'en';
  }
  return 'en';
}

let current: Language = resolveLanguage(null, typeof navigator === 'undefined' ? undefined : navigator.language);
const listeners = new Set<(lang: Language) => void>();

export function language(): Language {
  return current;
}

/** Switches the language; windows re-render through `onLanguage`. */
export function setLanguage(lang: Language): void {
  if (lang === current) return;
  current = lang;
  if (typeof document !== 'undefined') document.documentElement.lang = lang;
  for (const l of listeners) l(lang);
}

export function onLanguage(listener: (lang: Language) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export type Vars = Record<string, string | number>;

/** Intl's formatters, made once per language and options: making one reads the language's data
 * (ICU), which costs far more than formatting with it, and a panel formats a few dates per entry. */
const formatters = new Map<string, unknown>();

function formatter<F>(kind: string, options: object, make: (lang: Language) => F): F {
  const key = `${current}\u0000${kind}\u0000${JSON.stringify(options)}`;
  let made = formatters.get(key) as F | undefined;
  if (made === undefined) {
    made = make(current);
    formatters.set(key, made);
  }
  return made;
}

function fill(text: string, vars?: Vars): string {
  if (!vars) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in vars ? String(vars[name]) : whole,
  );
}

/** The text for `key` in the current language, with `{placeholders}` filled in. */
export function t(key: MessageKey, vars?: Vars): string {
  return fill(dictionaries[current][key] ?? en[key] ?? key, vars);
}

/** A plural form: `key` names the stem of `stem_one` / `stem_other`; `{n}` is filled in. */
export function tn(stem: string, n: number, vars?: Vars): string {
  const form = formatter('plural', {}, (lang) => new Intl.PluralRules(lang)).select(n) === 'one' ? 'one' : 'other';
  const key = `${stem}_${form}` as MessageKey;
  const fallback = `${stem}_other` as MessageKey;
  const text = dictionaries[current][key] ?? dictionaries[current][fallback] ?? stem;
  return fill(text, { ...vars, n: formatNumber(n) });
}

export function formatNumber(n: number): string {
  return formatter('number', {}, (lang) => new Intl.NumberFormat(lang)).format(n);
}

/** The range of moments a JavaScript date holds; a peer's timestamp may lie outside it. */
const MAX_DATE_MS = 8.64e15;

function dateable(ms: number): boolean {
  return Number.isFinite(ms) && Math.abs(ms) <= MAX_DATE_MS;
}

/** A moment as date and time, e.g. "1 Dec 2026, 09:00". */
export function formatDate(ms: number): string {
  if (!dateable(ms)) return t('time.unknown');
  const options = { dateStyle: 'medium', timeStyle: 'short' } as const;
  return formatter('date', options, (lang) => new Intl.DateTimeFormat(lang, options)).format(ms);
}

/** A day, e.g. "1 Dec 2026". */
export function formatDay(ms: number): string {
  if (!dateable(ms)) return t('time.unknown');
  const options = { dateStyle: 'medium' } as const;
  return formatter('date', options, (lang) => new Intl.DateTimeFormat(lang, options)).format(ms);
}

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['minute', 60_000],
  ['hour', 3_600_000],
  ['day', 86_400_000],
];

/** How long ago (or until) a moment is: "just now", "5 min ago", "in 3 days"; a date past a week. */
export function relativeTime(ms: number, now: number = Date.now()): string {
  if (!dateable(ms)) return t('time.unknown');
  const diff = ms - now;
  const abs = Math.abs(diff);
  if (abs < 45_000) return t('time.justNow');
  if (abs >= 7 * 86_400_000) return formatDay(ms);
  const options = { numeric: 'auto', style: 'short' } as const;
  const fmt = formatter('relative', options, (lang) => new Intl.RelativeTimeFormat(lang, options));
  let unit = UNITS[0];
  for (const u of UNITS) if (abs >= u[1] && u[0] !== 'minute') unit = u;
  return fmt.format(Math.round(diff / unit[1]), unit[0]);
}

/** A file size: "512 B", "1.4 MB". */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return t('size.bytes', { n: formatNumber(bytes) });
  const units = ['kilobyte', 'megabyte', 'gigabyte'] as const;
  let value = bytes / 1000;
  let i = 0;
  while (value >= 1000 && i < units.length - 1) {
    value /= 1000;
    i += 1;
  }
  const options = { style: 'unit', unit: units[i], maximumFractionDigits: value < 10 ? 1 : 0 } as const;
  return formatter('number', options, (lang) => new Intl.NumberFormat(lang, options)).format(value);
}

const DEFAULT_CATEGORIES = ['activities', 'travel', 'gadgets', 'books', 'songs', 'restaurants', 'watched'];

/** A category's name: the author's own, else the well-known default's in this language. */
export function categoryName(category: { id: string; name: string | null }): string {
  if (category.name) return category.name;
  if (DEFAULT_CATEGORIES.includes(category.id)) return t(`cat.${category.id}` as MessageKey);
  return t('cat.unnamed');
}
