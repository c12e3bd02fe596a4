// From an error a command answered to a sentence a person understands, chosen by its code.

import { t, type MessageKey } from './i18n';

const KNOWN = new Set([
  'bad_ticket',
  'ticket_expired',
  'ticket_used',
  'ticket_unknown',
  'self_pairing',
  'already_paired',
  'denied',
  'unreachable',
  'too_large',
  'invalid_input',
  'unknown_contact',
  'unknown_entry',
  'unknown_category',
  'file_not_found',
  'bad_import',
  'no_engine',
  'busy',
  'storage',
  'internal',
]);

/** A friendly, localized message for an error: by its code, else the back end's message. */
export function errorText(e: unknown): string {
  const code = e && typeof e === 'object' && 'code' in e ? String((e as { code: unknown }).code) : '';
  const raw =
    e && typeof e === 'object' && 'message' in e ? String((e as { message: unknown }).message) : String(e ?? '');
  if (KNOWN.has(code)) return t(`error.${code}` as MessageKey, { message: raw });
  return raw || t('error.unknown', { message: code });
}

/** The code of an error, if it has one. */
export function errorCode(e: unknown): string | null {
  return e && typeof e === 'object' && 'code' in e ? String((e as { code: unknown }).code) : null;
}
