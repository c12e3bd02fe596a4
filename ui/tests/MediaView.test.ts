import { describe, expect, it, vi } from 'vitest';
import { render, screen } from '@testing-library/svelte';
import MediaView from '../src/windows/MediaView.svelte';
import * as api from '../src/lib/api';

vi.mock('../src/lib/api', () => ({
  fetchMedia: vi.fn(),
  mediaSrc: (path: string) => `asset://localhost/${encodeURIComponent(path)}`,
}));

const media = (mime: string, size = 1000) => ({ hash: 'ab12', size, mime, name: 'x' });

describe('media in their panel', () => {
  it('fetches pictures by itself and shows them from the local copy', async () => {
    vi.mocked(api.fetchMedia).mockResolvedValue('/data/media/ab12.png');
    render(MediaView, { contact: 'c1', entry: 'e1', kind: 'image', media: media('image/png'), progress: null });
    await vi.waitFor(() => expect(screen.getByTestId('media-image')).toBeTruthy());
    expect(api.fetchMedia).toHaveBeenCalledWith('c1', 'e1');
    expect(screen.getByTestId('media-image').getAttribute('src')).toContain('ab12.png');
  });

  it('waits for a click before fetching sound, video, files and very large pictures', async () => {
    vi.mocked(api.fetchMedia).mockClear();
    render(MediaView, { contact: 'c1', entry: 'e2', kind: 'audio', media: media('audio/ogg'), progress: null });
    render(MediaView, {
      contact: 'c1',
      entry: 'e3',
      kind: 'image',
      media: media('image/png', 50 * 1024 * 1024),
      progress: null,
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(api.fetchMedia).not.toHaveBeenCalled();
    expect(screen.getAllByTestId('media-download')).toHaveLength(2);
  });
});
