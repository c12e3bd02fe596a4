import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { render, screen } from '@testing-library/svelte';
import Chat from '../src/windows/Chat.svelte';
import * as api from '../src/lib/api';
import { card, chatItem } from './fixtures';

vi.mock('../src/lib/api', () => ({
  chat: vi.fn(),
  contact: vi.fn(),
  sendMessage: vi.fn(),
  markChatRead: vi.fn(),
  openWindow: vi.fn(),
  fetchCommentAudio: vi.fn(),
  mediaSrc: (p: string) => p,
}));

let emit: ((e: unknown) => void) | null = null;
vi.mock('../src/lib/events', () => ({
  onEngineEvent: (cb: (e: unknown) => void) => {
    emit = cb;
    return () => (emit = null);
  },
}));

const bob = { id: 'c1', name: 'Bob', created: 0, outbox: 'o', inbound: 'i', peer: 'p' };

function view(items = [chatItem()], unread = 1) {
  return { contact: bob, items, unread } as api.ChatView;
}

/** Types `text` into the chat's box and presses Enter. */
async function typeAndSend(text: string) {
  const box = screen.getByTestId('chat-text') as HTMLTextAreaElement;
  box.value = text;
  box.dispatchEvent(new Event('input'));
  box.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
  await vi.advanceTimersByTimeAsync(10);
  return box;
}

describe('the chat window', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.spyOn(document, 'hasFocus').mockReturnValue(true);
    vi.mocked(api.contact).mockResolvedValue(card({ theirs: { shared: true, unseen: 1, updated: null, problem: null } }));
    vi.mocked(api.markChatRead).mockResolvedValue(null);
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.mocked(api.chat).mockReset();
    vi.mocked(api.markChatRead).mockReset();
  });

  it('shows messages both ways, with delivery, and feedback notices as items of their own', async () => {
    vi.mocked(api.chat).mockResolvedValue(
      view([
        chatItem({ id: 'm1', from_me: true, unread: false, delivered: true, text: 'hi Bob' }),
        chatItem({ id: 'm2', from_me: true, unread: false, delivered: false, text: 'still there?' }),
        chatItem({ id: 'k1', kind: 'comment', entry: 'e1', entry_label: 'Alps', text: 'Which valley?', audio: null }),
        chatItem({ id: 's1', kind: 'viewed', open_for_ms: 34_000, definitely: true, sessions: 1, entries: 2 }),
      ]),
    );
    render(Chat, { contact: 'c1' });
    await vi.advanceTimersByTimeAsync(10);
    const items = screen.getAllByTestId('chat-item');
    expect(items.map((i) => i.dataset.kind)).toEqual(['message', 'message', 'comment', 'viewed']);
    expect(screen.getAllByTestId('delivered').map((d) => d.textContent?.trim())).toEqual(['Delivered', 'Sent']);
    expect(items[2].textContent).toContain('Bob commented on “Alps”');
    expect(items[2].textContent).toContain('Which valley?');
    expect(items[3].textContent).toContain('Bob looked at your panel for 34 s');
    expect(screen.getByTestId('viewed-badge').dataset.definitely).toBe('true');
    // The two trigger icons open the panels from here.
    screen.getByTestId('open-viewer').click();
    expect(api.openWindow).toHaveBeenCalledWith('viewer', 'c1', null);
  });

  it('sends with Enter, and marks read once it has been in front a moment', async () => {
    vi.mocked(api.chat).mockResolvedValue(view());
    vi.mocked(api.sendMessage).mockResolvedValue(chatItem({ from_me: true }));
    render(Chat, { contact: 'c1', readMs: 1000 });
    await vi.advanceTimersByTimeAsync(10);
    expect(api.markChatRead).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1300);
    expect(api.markChatRead).toHaveBeenCalledWith('c1');

    await typeAndSend('See you Sunday');
    expect(api.sendMessage).toHaveBeenCalledWith('c1', 'See you Sunday');
  });

  it('empties the box of a message the full disk holds back, and says it goes by itself', async () => {
    vi.mocked(api.chat).mockResolvedValue(view([], 0));
    vi.mocked(api.sendMessage).mockRejectedValueOnce({ code: 'waits_for_space', message: 'the disk is full' });
    render(Chat, { contact: 'c1' });
    await vi.advanceTimersByTimeAsync(10);
    vi.mocked(api.chat).mockResolvedValue(view([chatItem({ from_me: true, text: 'See you Sunday' })], 0));
    const box = await typeAndSend('See you Sunday');
    expect(box.value).toBe('');
    expect(screen.getByTestId('chat-error').textContent).toContain('No need to send it again');
    expect(screen.getAllByTestId('chat-item')[0].textContent).toContain('See you Sunday');
  });

  it('keeps the text of a message refused up front, to send again', async () => {
    vi.mocked(api.chat).mockResolvedValue(view([], 0));
    vi.mocked(api.sendMessage).mockRejectedValueOnce({ code: 'disk_full', message: 'the disk is full' });
    render(Chat, { contact: 'c1' });
    await vi.advanceTimersByTimeAsync(10);
    const box = await typeAndSend('See you Sunday');
    expect(box.value).toBe('See you Sunday');
    expect(screen.getByTestId('chat-error').textContent).toContain('Free some space');
  });

  it('reads again when the engine says this chat changed', async () => {
    vi.mocked(api.chat).mockResolvedValue(view([], 0));
    render(Chat, { contact: 'c1' });
    await vi.advanceTimersByTimeAsync(10);
    expect(screen.getByTestId('chat-empty')).toBeTruthy();
    vi.mocked(api.chat).mockResolvedValue(view([chatItem({ text: 'new one' })]));
    emit?.({ event: 'chat_received', contact: 'c1', items: [], unread: 1 });
    await vi.advanceTimersByTimeAsync(200);
    expect(screen.getAllByTestId('chat-item')[0].textContent).toContain('new one');
  });
});
