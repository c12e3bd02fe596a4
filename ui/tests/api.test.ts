import { describe, expect, it } from 'vitest';
import { commands } from '../src/lib/bindings';
import * as api from '../src/lib/api';

// The windows reach the back end only through `api.ts`: it must offer every command the engine's
// API generates, under the same name.
describe('the api module', () => {
  it('wraps every command of the generated bindings', () => {
    const names = Object.keys(commands);
    expect(names.length).toBeGreaterThan(30);
    const missing = names.filter((n) => typeof (api as Record<string, unknown>)[n] !== 'function');
    expect(missing).toEqual([]);
  });
});
