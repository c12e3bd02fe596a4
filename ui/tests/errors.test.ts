import { afterEach, describe, expect, it } from 'vitest';
import { ERROR_CODES, errorText } from '../src/lib/errors';
import { ApiError, toApiError } from '../src/lib/api';
import { dictionaries, setLanguage } from '../src/lib/i18n';

// Every code the engine can answer with (`errors.ts` must give each a sentence, or it does not
// compile against the generated `ErrorCode`).
const CODES = ERROR_CODES;

describe('error messages', () => {
  afterEach(() => setLanguage('en'));

  it.each(CODES)('%s has its own sentence in both languages', (code) => {
    for (const lang of ['en', 'zh-CN'] as const) {
      setLanguage(lang);
      const key = `error.${code}` as keyof typeof dictionaries.en;
      const text = errorText({ code, message: 'raw detail' });
      expect(text).toBe(dictionaries[lang][key].replace('{message}', 'raw detail'));
    }
  });

  it('are chosen by code, not by message', () => {
    setLanguage('en');
    expect(errorText({ code: 'ticket_expired', message: 'ticket expired at 12:00' })).toBe(
      'That ticket has expired. Ask for a new one.',
    );
    setLanguage('zh-CN');
    expect(errorText({ code: 'ticket_expired', message: 'ticket expired at 12:00' })).toBe(
      '这个配对码已过期，请向对方要一个新的。',
    );
  });

  it('fall back to the back end’s message for a code we do not know', () => {
    expect(errorText({ code: 'brand_new', message: 'the relay is sulking' })).toBe('the relay is sulking');
  });

  it('turn whatever was thrown into an ApiError with a code', () => {
    expect(toApiError({ code: 'denied', message: 'no' })).toEqual(new ApiError('denied', 'no'));
    expect(toApiError('plain string').code).toBe('internal');
    expect(toApiError(new Error('boom')).message).toBe('boom');
  });
});
