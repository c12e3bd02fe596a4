import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// Text from peers is always rendered as text: no raw-HTML blocks anywhere in the windows.
function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

describe('the source tree', () => {
  const src = join(__dirname, '..', 'src');
  const all = files(src).filter((f) => /\.(svelte|ts|js)$/.test(f));

  it('has components to scan', () => {
    expect(all.some((f) => f.endsWith('.svelte'))).toBe(true);
  });

  it('never renders raw HTML', () => {
    const offenders = all.filter((f) => {
      const text = readFileSync(f, 'utf8');
      return text.includes('{@html') || /\binnerHTML\s*=/.test(text) || /\bouterHTML\s*=/.test(text);
    });
    expect(offenders).toEqual([]);
  });

  it('sets no inline style attributes (the CSP forbids them)', () => {
    const offenders = all.filter((f) => f.endsWith('.svelte') && /\sstyle(=|:)/.test(readFileSync(f, 'utf8')));
    expect(offenders).toEqual([]);
  });
});
