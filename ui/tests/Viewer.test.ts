import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { render, screen } from '@testing-library/svelte';
import Viewer from '../src/windows/Viewer.svelte';
import * as api from '../src/lib/api';
import { card, changed, theirPanel } from './fixtures';

vi.mock('../src/lib/api', () => ({
  theirPanel: vi.fn(),
  markSeen: vi.fn(),
  fetchMedia: vi.fn(),
  mediaSrc: (p: string) => p,
  feedback: vi.fn(),
  beginView: vi.fn(),
  viewSignal: vi.fn(),
  endView: vi.fn(),
  contact: vi.fn(),
  settings: vi.fn(),
  setContactReceipts: vi.fn(),
  comment: vi.fn(),
  removeComment: vi.fn(),
}));

let emit: ((e: unknown) => void) | null = null;
vi.mock('../src/lib/events', () => ({
  onEngineEvent: (cb: (e: unknown) => void) => {
    emit = cb;
    return () => (emit = null);
  },
}));

const theirs = vi.mocked(api.theirPanel);
const markSeen = vi.mocked(api.markSeen);

/** Opens the viewer, then the comment box under its entry, and sends `text` from it. */
async function commentOnTheEntry(text: string) {
  render(Viewer, { contact: 'c1' });
  await vi.advanceTimersByTimeAsync(10);
  const entry = screen.getByTestId('entry');
  (entry.querySelector('[data-testid=comment-open]') as HTMLButtonElement).click();
  await vi.advanceTimersByTimeAsync(10);
  const box = entry.querySelector('[data-testid=comment-text]') as HTMLTextAreaElement;
  box.value = text;
  box.dispatchEvent(new Event('input'));
  await vi.advanceTimersByTimeAsync(10);
  (entry.querySelector('[data-testid=comment-send]') as HTMLButtonElement).click();
  await vi.advanceTimersByTimeAsync(10);
  return { entry, box };
}

describe('the viewer window', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.spyOn(document, 'hasFocus').mockReturnValue(true);
    markSeen.mockResolvedValue(null);
    vi.mocked(api.feedback).mockResolvedValue({ sent: [] } as unknown as api.FeedbackView);
    vi.mocked(api.beginView).mockResolvedValue({ session: 's1' });
    vi.mocked(api.endView).mockResolvedValue({ open_for_ms: 0, recorded: true });
    vi.mocked(api.contact).mockResolvedValue(card());
    vi.mocked(api.settings).mockResolvedValue({ receipts: true } as api.Preferences);
  });
  afterEach(() => {
    vi.useRealTimers();
    theirs.mockReset();
    markSeen.mockReset();
  });

  it('marks what I saw as seen after a few seconds of attention, once, keeping the highlights', async () => {
    theirs.mockResolvedValue(theirPanel([changed({ state: 'new' })], ['h1', 'h2']));
    render(Viewer, { contact: 'c1' });
    await vi.advanceTimersByTimeAsync(10);
    expect(screen.getByTestId('entry').dataset.state).toBe('new');

    await vi.advanceTimersByTimeAsync(1500);
    expect(markSeen).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(2000);
    expect(markSeen).toHaveBeenCalledTimes(1);
    expect(markSeen).toHaveBeenCalledWith('c1', ['h1', 'h2']);

    await vi.advanceTimersByTimeAsync(10_000);
    expect(markSeen).toHaveBeenCalledTimes(1);
    expect(theirs).toHaveBeenCalledTimes(1);
    expect(screen.getByTestId('entry').dataset.state).toBe('new');
    expect(screen.getByTestId('mark-seen').textContent).toBe('All caught up');
  });

  it('does not count time while the window is not focused', async () => {
    theirs.mockResolvedValue(theirPanel([changed()]));
    render(Viewer, { contact: 'c1' });
    // The window manager reports focus, and this window lost it.
    vi.spyOn(document, 'hasFocus').mockReturnValue(false);
    window.dispatchEvent(new Event('blur'));
    await vi.advanceTimersByTimeAsync(10_000);
    expect(markSeen).not.toHaveBeenCalled();
  });

  it('reloads when their panel arrives, and marks the new version too', async () => {
    theirs.mockResolvedValueOnce(theirPanel([changed()], ['h1']));
    render(Viewer, { contact: 'c1' });
    await vi.advanceTimersByTimeAsync(3500);
    expect(markSeen).toHaveBeenLastCalledWith('c1', ['h1']);

    theirs.mockResolvedValueOnce(theirPanel([changed({ state: 'edited' })], ['h3']));
    emit?.({ event: 'panel_received', contact: 'other', unseen: 1 });
    await vi.advanceTimersByTimeAsync(200);
    expect(theirs).toHaveBeenCalledTimes(1);
    emit?.({ event: 'panel_received', contact: 'c1', unseen: 1 });
    await vi.advanceTimersByTimeAsync(200);
    expect(theirs).toHaveBeenCalledTimes(2);
    expect(screen.getByTestId('entry').dataset.state).toBe('edited');
    await vi.advanceTimersByTimeAsync(3500);
    expect(markSeen).toHaveBeenLastCalledWith('c1', ['h3']);
  });

  it('the button marks at once', async () => {
    theirs.mockResolvedValue(theirPanel([changed()], ['h9']));
    vi.spyOn(document, 'hasFocus').mockReturnValue(false);
    render(Viewer, { contact: 'c1' });
    await vi.advanceTimersByTimeAsync(10);
    screen.getByTestId('mark-seen').click();
    await vi.advanceTimersByTimeAsync(10);
    expect(markSeen).toHaveBeenCalledWith('c1', ['h9']);
  });

  it('puts a long panel on the page a screenful first, then the rest, newest first', async () => {
    const hour = 3_600_000;
    const entries = Array.from({ length: 300 }, (_, i) => {
      const e = changed({ state: 'seen', text: `entry ${i}` });
      e.entry = { ...e.entry, id: `e${i}`, created: Date.now() - (300 - i) * hour };
      return e;
    });
    theirs.mockResolvedValue(theirPanel(entries));
    render(Viewer, { contact: 'c1' });
    await vi.advanceTimersByTimeAsync(10);
    const first = screen.getAllByTestId('entry');
    expect(first.length).toBeGreaterThan(0);
    expect(first.length).toBeLessThan(300);
    expect(first[0].dataset.entryId).toBe('e299');
    await vi.advanceTimersByTimeAsync(1000);
    const all = screen.getAllByTestId('entry');
    expect(all).toHaveLength(300);
    expect(all.map((e) => e.dataset.entryId)).toEqual(entries.map((e) => e.entry.id).reverse());
  });

  it('says so when they have shared nothing', async () => {
    const p = theirPanel([]);
    p.shared = false;
    theirs.mockResolvedValue(p);
    render(Viewer, { contact: 'c1' });
    await vi.advanceTimersByTimeAsync(10);
    expect(screen.getByTestId('viewer-empty').textContent).toContain('Alice hasn’t shared anything');
    expect(screen.queryByTestId('entry')).toBeNull();
  });
});

describe('feedback from the viewer window', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.spyOn(document, 'hasFocus').mockReturnValue(true);
    markSeen.mockResolvedValue(null);
    vi.mocked(api.beginView).mockResolvedValue({ session: 's1' });
    vi.mocked(api.endView).mockResolvedValue({ open_for_ms: 0, recorded: true });
    vi.mocked(api.contact).mockResolvedValue(card());
    vi.mocked(api.settings).mockResolvedValue({ receipts: true } as api.Preferences);
  });
  afterEach(() => {
    vi.useRealTimers();
    theirs.mockReset();
  });

  it('begins a viewing session with the heads on screen, and shows my comments under their entry', async () => {
    theirs.mockResolvedValue(theirPanel([changed()], ['h7']));
    vi.mocked(api.feedback).mockResolvedValue({
      sent: [{ id: 'm1', entry: 'e1', entry_label: 'Climbed', text: 'Which route?', at: Date.now(), audio: null }],
    } as unknown as api.FeedbackView);
    render(Viewer, { contact: 'c1' });
    await vi.advanceTimersByTimeAsync(600);
    expect(api.beginView).toHaveBeenCalledWith('c1', ['h7']);
    const mine = screen.getByTestId('my-comment');
    expect(mine.textContent).toContain('Which route?');
    expect(mine.closest('[data-testid=entry]')?.getAttribute('data-entry-id')).toBe('e1');
    expect((screen.getByTestId('contact-receipts') as HTMLInputElement).checked).toBe(true);
  });

  it('sends a comment on an entry', async () => {
    theirs.mockResolvedValue(theirPanel([changed()], ['h7']));
    vi.mocked(api.feedback).mockResolvedValue({ sent: [] } as unknown as api.FeedbackView);
    vi.mocked(api.comment).mockResolvedValue({
      id: 'm2',
      entry: 'e1',
      entry_label: null,
      text: 'Lovely',
      at: 0,
      audio: null,
    });
    await commentOnTheEntry('Lovely');
    expect(api.comment).toHaveBeenCalledWith('c1', 'e1', 'Lovely', null);
  });

  it('empties the box of a comment the full disk holds back, and says it goes by itself', async () => {
    theirs.mockResolvedValue(theirPanel([changed()], ['h7']));
    vi.mocked(api.feedback).mockResolvedValue({ sent: [] } as unknown as api.FeedbackView);
    vi.mocked(api.comment).mockRejectedValueOnce({ code: 'waits_for_space', message: 'the disk is full' });
    const { entry, box } = await commentOnTheEntry('Lovely');
    expect(box.value).toBe('');
    expect(entry.textContent).toContain('No need to send it again');
  });
});
