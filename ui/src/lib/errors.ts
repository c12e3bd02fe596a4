// From an error a command answered to a sentence a person understands, chosen by its code. The
// codes are the engine's own (`ErrorCode` in the generated bindings): a new code does not compile
// until it has its sentence here.

import type { ErrorCode } from './bindings';
import { t, type MessageKey } from './i18n';

const MESSAGES: Record<ErrorCode, MessageKey> = {
  unknown_contact: 'error.unknown_contact',
  unknown_category: 'error.unknown_category',
  unknown_draft: 'error.unknown_draft',
  unknown_entry: 'error.unknown_entry',
  invalid_input: 'error.invalid_input',
  file_not_found: 'error.file_not_found',
  too_large: 'error.too_large',
  bad_import: 'error.bad_import',
  bad_ticket: 'error.bad_ticket',
  ticket_truncated: 'error.ticket_truncated',
  ticket_damaged: 'error.ticket_damaged',
  ticket_too_new: 'error.ticket_too_new',
  ticket_expired: 'error.ticket_expired',
  ticket_used: 'error.ticket_used',
  ticket_unknown: 'error.ticket_unknown',
  self_pairing: 'error.self_pairing',
  already_paired: 'error.already_paired',
  denied: 'error.denied',
  unreachable: 'error.unreachable',
  storage: 'error.storage',
  disk_full: 'error.disk_full',
  waits_for_space: 'error.waits_for_space',
  no_engine: 'error.no_engine',
  busy: 'error.busy',
  capture_failed: 'error.capture_failed',
  document_in_use: 'error.document_in_use',
  panel_too_new: 'error.panel_too_new',
  panel_unreadable: 'error.panel_unreadable',
  internal: 'error.internal',
};

/** Every error code there is. */
export const ERROR_CODES = Object.keys(MESSAGES) as ErrorCode[];

function isCode(code: string): code is ErrorCode {
  return Object.prototype.hasOwnProperty.call(MESSAGES, code);
}

/** A friendly, localized message for an error: by its code, else the back end's message. */
export function errorText(e: unknown): string {
  const code = e && typeof e === 'object' && 'code' in e ? String((e as { code: unknown }).code) : '';
  const raw =
    e && typeof e === 'object' && 'message' in e ? String((e as { message: unknown }).message) : String(e ?? '');
  if (isCode(code)) return t(MESSAGES[code], { message: raw });
  return raw || t('error.unknown', { message: code });
}

/** The code of an error, if it has one. */
export function errorCode(e: unknown): ErrorCode | null {
  const code = e && typeof e === 'object' && 'code' in e ? String((e as { code: unknown }).code) : null;
  return code !== null && isCode(code) ? code : null;
}
