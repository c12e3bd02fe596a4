import { describe, expect, it, vi } from 'vitest';
import { render, screen } from '@testing-library/svelte';
import LinkCard from '../src/windows/LinkCard.svelte';
import * as api from '../src/lib/api';

vi.mock('../src/lib/api', () => ({
  fetchMedia: vi.fn(async () => '/data/media/abc.jpg'),
  mediaSrc: (p: string) => `asset://${p}`,
}));

const tick = () => new Promise((r) => setTimeout(r, 0));

function link(url: string, snapshot: Record<string, unknown> | null) {
  return {
    kind: 'link',
    id: 'e1',
    category: 'activities',
    text: '',
    created: 0,
    edited: 0,
    source: 'manual',
    url,
    snapshot: snapshot && {
      title: null,
      description: null,
      site: null,
      excerpt: null,
      image: null,
      final_url: null,
      language: null,
      content_type: null,
      size: null,
      ...snapshot,
    },
  } as unknown as Extract<api.Entry, { kind: 'link' }>;
}

describe('a link card', () => {
  it('shows what the author kept of the page, the picture fetched like any picture', async () => {
    const entry = link('https://example.org/walk', {
      title: 'Walking the Ridgeway',
      site: 'Example Trails',
      description: 'Chalk and sheep.',
      excerpt: 'First paragraph.\n\nSecond paragraph.',
      language: 'en-GB',
      image: { hash: 'ab', size: 40_000, mime: 'image/jpeg', name: 'preview.jpg' },
    });
    render(LinkCard, { entry, contact: 'c1' });
    await tick();
    expect(screen.getByTestId('link-title').textContent).toBe('Walking the Ridgeway');
    expect(screen.getByTestId('link-site').textContent).toBe('Example Trails');
    expect(screen.getByTestId('link-description').textContent).toBe('Chalk and sheep.');
    expect(api.fetchMedia).toHaveBeenCalledWith('c1', 'e1');
    expect(screen.getByTestId('link-image').getAttribute('src')).toBe('asset:///data/media/abc.jpg');
    // The excerpt waits until asked for, in paragraphs.
    expect(screen.queryByTestId('link-excerpt')).toBeNull();
    screen.getByTestId('link-more').click();
    await tick();
    const excerpt = screen.getByTestId('link-excerpt');
    expect(excerpt.querySelectorAll('p')).toHaveLength(2);
    expect(excerpt.getAttribute('lang')).toBe('en-GB');
    expect(screen.getByTestId('entry-link').getAttribute('href')).toBe('https://example.org/walk');
  });

  it('offers only web links to open, and names a file that is not a page', () => {
    render(LinkCard, {
      entry: link('javascript:alert(1)', { content_type: 'application/pdf', size: 2_400_000 }),
    });
    expect(screen.queryByTestId('entry-link')).toBeNull();
    expect(screen.getByTestId('entry-link-text').textContent).toBe('javascript:alert(1)');
    expect(screen.getByTestId('link-type').textContent).toContain('application/pdf');
  });

  it('fetches nothing in the editor, where no contact is given', async () => {
    vi.mocked(api.fetchMedia).mockClear();
    render(LinkCard, {
      entry: link('https://example.org/', {
        title: 'T',
        image: { hash: 'ab', size: 10, mime: 'image/png', name: 'preview.png' },
      }),
    });
    await tick();
    expect(api.fetchMedia).not.toHaveBeenCalled();
    expect(screen.queryByTestId('link-image')).toBeNull();
  });
});
