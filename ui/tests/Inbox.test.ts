import { beforeEach, describe, expect, it, vi } from 'vitest';
import { render, screen } from '@testing-library/svelte';
import Inbox from '../src/windows/Inbox.svelte';
import * as api from '../src/lib/api';
import { card } from './fixtures';

vi.mock('../src/lib/api', () => ({
  inbox: vi.fn(),
  contacts: vi.fn(),
  commitDraft: vi.fn(),
  rejectSuggestion: vi.fn(),
  allowPlayer: vi.fn(),
  disallowPlayer: vi.fn(),
  openWindow: vi.fn(),
  parseWhen: vi.fn(),
}));

vi.mock('../src/lib/events', () => ({ onEngineEvent: () => () => {} }));

function suggestion(id: string, text: string, location: string, player = 'mpv') {
  return {
    id,
    created: Date.now() - 60_000,
    contact: null,
    category: null,
    kind: 'watched_video',
    player,
    location: location.startsWith('/') ? '' : location,
    title: null,
    text,
    visibility: { rule: 'visible' },
    source: { from: 'watcher', player, location, via: 'poll', seen: Date.now() - 60_000 },
  };
}

function view(over: Partial<api.InboxView> = {}): api.InboxView {
  return {
    suggestions: [
      suggestion('s1', 'Summer holiday 2024', '/home/ann/Videos/Summer_holiday-2024.mkv'),
      suggestion('s2', 'Cinema Paradiso', 'https://videos.example.org/watch?v=paradiso', 'vlc'),
    ],
    rules: [],
    watcher: { available: true, running: true, message: null },
    default_to: ['c1'],
    ...over,
  } as unknown as api.InboxView;
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('the inbox', () => {
  beforeEach(() => {
    vi.mocked(api.contacts).mockResolvedValue([card(), card({ id: 'c2', name: 'Carol' })]);
    vi.mocked(api.commitDraft).mockResolvedValue(['e1']);
    vi.mocked(api.rejectSuggestion).mockResolvedValue(null);
    vi.mocked(api.allowPlayer).mockResolvedValue({ player: 'mpv', contacts: ['c1'], since: 0 });
  });

  it('approves a suggestion in one click, to the default contacts, as it is', async () => {
    vi.mocked(api.inbox).mockResolvedValue(view());
    render(Inbox);
    await tick();
    const cards = screen.getAllByTestId('suggestion');
    expect(cards).toHaveLength(2);
    expect(cards[0].textContent).toContain('Summer holiday 2024');
    // A local file's location is shown to its author with the promise that it stays here.
    expect(cards[0].textContent).toContain('stays on this device');
    expect(cards[1].textContent).not.toContain('stays on this device');
    const approve = cards[0].querySelector('[data-testid=approve]') as HTMLButtonElement;
    expect(approve.textContent).toContain('Bob');
    approve.click();
    await tick();
    expect(api.commitDraft).toHaveBeenCalledWith('s1', ['c1'], {
      text: null,
      category: null,
      visibility: { rule: 'visible' },
    });
    expect(screen.getAllByTestId('suggestion')).toHaveLength(1);
  });

  it('asks who it is for when there is no default, and takes the changes made', async () => {
    vi.mocked(api.inbox).mockResolvedValue(view({ default_to: [] }));
    render(Inbox);
    await tick();
    const first = screen.getAllByTestId('suggestion')[0];
    (first.querySelector('[data-testid=approve]') as HTMLButtonElement).click();
    await tick();
    expect(api.commitDraft).not.toHaveBeenCalled();
    const boxes = first.querySelectorAll<HTMLInputElement>('[data-testid=suggestion-to]');
    expect(boxes).toHaveLength(2);
    boxes[1].click();
    const text = first.querySelector('[data-testid=suggestion-edit-text]') as HTMLInputElement;
    text.value = 'Our summer, on film';
    text.dispatchEvent(new Event('input', { bubbles: true }));
    await tick();
    (first.querySelector('[data-testid=approve]') as HTMLButtonElement).click();
    await tick();
    expect(api.commitDraft).toHaveBeenCalledWith('s1', ['c2'], {
      text: 'Our summer, on film',
      category: null,
      visibility: { rule: 'visible' },
    });
  });

  it('rejects for good after asking, and always allows a player for the chosen contacts', async () => {
    vi.mocked(api.inbox).mockResolvedValue(view());
    render(Inbox);
    await tick();
    const [first, second] = screen.getAllByTestId('suggestion');
    (first.querySelector('[data-testid=reject]') as HTMLButtonElement).click();
    await tick();
    expect(api.rejectSuggestion).not.toHaveBeenCalled();
    const yes = [...first.querySelectorAll('button')].find((b) => b.textContent?.includes('Never again'));
    yes?.click();
    await tick();
    expect(api.rejectSuggestion).toHaveBeenCalledWith('s1');

    (second.querySelector('[data-testid=always-allow]') as HTMLButtonElement).click();
    await tick();
    expect(api.allowPlayer).toHaveBeenCalledWith('vlc', ['c1']);
    expect(api.commitDraft).toHaveBeenCalledWith('s2', ['c1'], expect.anything());
  });

  it('says when the watcher is off, and when there is nothing to approve', async () => {
    vi.mocked(api.inbox).mockResolvedValue(
      view({ suggestions: [], watcher: { available: true, running: false, message: 'turned off in the settings' } }),
    );
    render(Inbox);
    await tick();
    expect(screen.getByTestId('watcher-off').textContent).toContain('The video watcher is off');
    expect(screen.getByTestId('inbox-empty')).toBeTruthy();
  });
});
