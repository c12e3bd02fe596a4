import { describe, expect, it } from 'vitest';
import { parseRoute } from '../src/lib/route';

describe('window routes', () => {
  it('read every window', () => {
    expect(parseRoute('')).toEqual({ window: 'main' });
    expect(parseRoute('#/main')).toEqual({ window: 'main' });
    expect(parseRoute('#/settings')).toEqual({ window: 'settings' });
    expect(parseRoute('#/pairing')).toEqual({ window: 'pairing', ticket: null });
    expect(parseRoute('#/editor/abc')).toEqual({ window: 'editor', contact: 'abc' });
    expect(parseRoute('#/viewer/a%20b')).toEqual({ window: 'viewer', contact: 'a b' });
    expect(parseRoute('#/editor/')).toEqual({ window: 'unknown' });
    expect(parseRoute('#/nowhere')).toEqual({ window: 'unknown' });
  });

  it('take the ticket of a deep link as the back end encodes it', () => {
    expect(parseRoute('#/pairing?ticket=backstory%3A%2F%2Fpair%2Fab%20c%23d')).toEqual({
      window: 'pairing',
      ticket: 'backstory://pair/ab c#d',
    });
  });
});
