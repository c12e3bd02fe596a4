import { describe, expect, it, vi } from 'vitest';
import { render, screen } from '@testing-library/svelte';
import EditorEntry from '../src/windows/EditorEntry.svelte';
import type { MyEntry, Visibility } from '../src/lib/api';

vi.mock('../src/lib/api', () => ({
  editEntry: vi.fn(),
  removeEntry: vi.fn(),
  refreshSnapshot: vi.fn(),
  removeSnapshot: vi.fn(),
  fetchMedia: vi.fn(),
  mediaSrc: (p: string) => `asset://${p}`,
}));

const day = 86_400_000;

function item(visibility: Visibility, visibleNow: boolean): MyEntry {
  return {
    entry: {
      id: 'e1',
      category: 'activities',
      text: 'Climbed Mont Ventoux',
      created: 1,
      edited: 1,
      source: 'manual',
      kind: 'text',
    },
    visibility,
    visible_now: visibleNow,
    note: null,
  } as MyEntry;
}

function badge(visibility: Visibility, visibleNow: boolean): string {
  render(EditorEntry, {
    item: item(visibility, visibleNow),
    categories: [{ id: 'activities', name: null }],
    contactName: 'Bob',
    showCategory: false,
    onchanged: () => {},
  });
  const text = screen.getByTestId('entry').querySelector('.vis')?.textContent ?? '';
  document.body.innerHTML = '';
  return text;
}

describe('the rule badge of an entry in my panel', () => {
  // The engine's clock decides what is visible (tests move it); the window's own clock must not
  // contradict it, so a date in the window's past can still be the engine's future.
  it('follows what core says is visible now, not the window clock', () => {
    const past = Date.now() - 3 * day;
    const future = Date.now() + 3 * day;
    expect(badge({ rule: 'reveal_after', at: past }, false)).toMatch(/^Shows from/);
    expect(badge({ rule: 'reveal_after', at: future }, true)).toMatch(/^Visible since/);
    expect(badge({ rule: 'visible_until', at: past }, true)).toMatch(/^Visible until/);
    expect(badge({ rule: 'visible_until', at: future }, false)).toMatch(/^Hidden since/);
    expect(badge({ rule: 'hidden' }, false)).toBe('Hidden');
    expect(badge({ rule: 'visible' }, true)).toBe('Visible');
  });
});
