import { describe, expect, it, vi } from 'vitest';
import { render, screen, within } from '@testing-library/svelte';
import ViewerEntry from '../src/windows/ViewerEntry.svelte';
import { changed } from './fixtures';

vi.mock('../src/lib/api', () => ({ fetchMedia: vi.fn(), mediaSrc: (p: string) => `asset://${p}` }));

describe('an entry in their panel', () => {
  it('stands out as new, with a clear badge', () => {
    render(ViewerEntry, { item: changed({ state: 'new' }), contact: 'c1' });
    const entry = screen.getByTestId('entry');
    expect(entry.dataset.state).toBe('new');
    expect(entry.dataset.entryId).toBe('e1');
    expect(entry.classList.contains('new')).toBe(true);
    expect(within(entry).getByTestId('entry-flag').textContent).toBe('New');
  });

  it('shows an edited entry as spans of distinct colours, each change labelled with its time', () => {
    const hour = 3_600_000;
    const item = changed({
      state: 'edited',
      spans: [
        { text: 'Climbed Mont Ventoux', change: 'aaa', time: Date.now() - 26 * hour, new: false },
        { text: ' in the rain', change: 'bbb', time: Date.now() - 2 * hour, new: true },
      ],
    });
    render(ViewerEntry, { item, contact: 'c1' });
    const entry = screen.getByTestId('entry');
    expect(entry.dataset.state).toBe('edited');
    expect(within(entry).getByTestId('entry-flag').textContent).toBe('Edited');

    const spans = within(entry).getAllByTestId('span');
    expect(spans.map((s) => s.textContent)).toEqual(['Climbed Mont Ventoux', ' in the rain']);
    expect(spans.map((s) => s.dataset.change)).toEqual(['aaa', 'bbb']);
    expect(spans[0].classList.contains('span-c0')).toBe(true);
    expect(spans[1].classList.contains('span-c1')).toBe(true);
    expect(spans[0].classList.contains('fresh')).toBe(false);
    expect(spans[1].classList.contains('fresh')).toBe(true);

    const times = within(entry).getAllByTestId('span-time');
    expect(times).toHaveLength(2);
    expect(times[1].textContent).toMatch(/2 hr/);
  });

  it('shows hostile text literally, never as markup', () => {
    const hostile = '<img src=x onerror=alert(1)><script>alert(2)</script>';
    const item = changed({
      text: hostile,
      spans: [
        { text: hostile, change: 'aaa', time: 1, new: true },
        { text: '<b>bold?</b>', change: 'bbb', time: 2, new: true },
      ],
    });
    render(ViewerEntry, { item, contact: 'c1' });
    const entry = screen.getByTestId('entry');
    expect(entry.querySelector('img')).toBeNull();
    expect(entry.querySelector('script')).toBeNull();
    expect(entry.querySelector('b')).toBeNull();
    expect(within(entry).getByTestId('entry-text').textContent).toContain(hostile);
    expect(within(entry).getByTestId('entry-text').textContent).toContain('<b>bold?</b>');
  });

  it('shows a link as text that opens in the browser, without the opener', () => {
    const item = changed({ state: 'seen' });
    Object.assign(item.entry, { kind: 'link', url: 'https://example.org/ventoux', snapshot: null });
    render(ViewerEntry, { item, contact: 'c1' });
    const link = screen.getByTestId('entry-link') as HTMLAnchorElement;
    expect(link.textContent).toBe('https://example.org/ventoux');
    expect(link.target).toBe('_blank');
    expect(link.rel).toBe('noopener noreferrer');
    expect(screen.getByTestId('entry').dataset.state).toBe('seen');
    expect(screen.queryByTestId('entry-flag')).toBeNull();
  });
});
