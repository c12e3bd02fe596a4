import { describe, expect, it, vi } from 'vitest';
import { render, screen } from '@testing-library/svelte';
import ContactRow from '../src/windows/ContactRow.svelte';
import { card, chatItem } from './fixtures';

vi.mock('../src/lib/api', () => ({}));

function props(contact = card()) {
  return { contact, now: Date.now(), onopeneditor: vi.fn(), onopenviewer: vi.fn(), onremove: vi.fn() };
}

describe('a contact row', () => {
  it('shows the empty trigger image while nothing is visible, the content image once something is', async () => {
    const { rerender } = render(ContactRow, props());
    const icon = screen.getByTestId('trigger-icon') as HTMLImageElement;
    expect(icon.dataset.state).toBe('empty');
    const emptySrc = icon.getAttribute('src');
    expect(emptySrc).toMatch(/panel-empty/);

    await rerender(props(card({ mine: { entries: 2, visible: 2, unseen_by_them: 2 } })));
    const after = screen.getByTestId('trigger-icon') as HTMLImageElement;
    expect(after.dataset.state).toBe('content');
    expect(after.getAttribute('src')).toMatch(/panel-content/);
    expect(after.getAttribute('src')).not.toBe(emptySrc);
    expect(after.closest('button')?.dataset.testid).toBe('open-editor');
  });

  it('counts my updates they have not seen, and hides the badge at zero or unknown', async () => {
    const { rerender } = render(ContactRow, props(card({ mine: { entries: 3, visible: 3, unseen_by_them: 3 } })));
    expect(screen.getByTestId('trigger-count').textContent?.trim()).toBe('3');

    await rerender(props(card({ mine: { entries: 3, visible: 3, unseen_by_them: 0 } })));
    expect(screen.queryByTestId('trigger-count')).toBeNull();

    await rerender(props(card({ mine: { entries: 3, visible: 3, unseen_by_them: null } })));
    expect(screen.queryByTestId('trigger-count')).toBeNull();
  });

  it('shows their panel as none, updated (with when) or seen', async () => {
    const { rerender } = render(ContactRow, props());
    expect(screen.getByTestId('their-icon').dataset.state).toBe('none');

    const updated = Date.now() - 2 * 3_600_000;
    await rerender(props(card({ theirs: { shared: true, unseen: 2, updated, problem: null } })));
    expect(screen.getByTestId('their-icon').dataset.state).toBe('updated');
    expect(screen.getByTestId('their-caption').textContent).toMatch(/Updated 2 hr/);
    expect(screen.getByTestId('their-icon').closest('button')?.dataset.testid).toBe('open-viewer');

    await rerender(props(card({ theirs: { shared: true, unseen: 0, updated, problem: null } })));
    expect(screen.getByTestId('their-icon').dataset.state).toBe('seen');
  });

  it('marks a panel it cannot read on this row, and a date past what a clock can show does not throw', async () => {
    const far = 9e18;
    const { rerender } = render(
      ContactRow,
      props(card({ theirs: { shared: true, unseen: 1, updated: far, problem: 'too_new' } })),
    );
    const mark = screen.getByTestId('panel-problem');
    expect(mark.dataset.problem).toBe('too_new');
    expect(mark.textContent).toMatch(/needs a newer Backstory/);
    expect(screen.getByTestId('their-caption').textContent).toMatch(/unknown date/);

    await rerender(props(card({ theirs: { shared: true, unseen: 0, updated: null, problem: 'unreadable' } })));
    expect(screen.getByTestId('panel-problem').textContent).toMatch(/could not be read/);

    await rerender(props(card({ theirs: { shared: true, unseen: 0, updated: null, problem: 'too_large' } })));
    expect(screen.getByTestId('panel-problem').textContent).toMatch(/syncing it is paused/);

    await rerender(props());
    expect(screen.queryByTestId('panel-problem')).toBeNull();
  });

  it('shows the name, online state and safety words, and opens the two windows', async () => {
    const p = props();
    render(ContactRow, p);
    const row = screen.getByTestId('contact-row');
    expect(row.dataset.contactId).toBe('c1');
    expect(row.textContent).toContain('Bob');
    expect(row.textContent).toContain('amber lantern river');
    expect(screen.getByTestId('online-dot').dataset.state).toBe('online');
    screen.getByTestId('open-editor').click();
    screen.getByTestId('open-viewer').click();
    expect(p.onopeneditor).toHaveBeenCalledWith('c1');
    expect(p.onopenviewer).toHaveBeenCalledWith('c1');
  });

  it('says whether the contact is online, syncing or offline, in words as well as colour', async () => {
    const { rerender } = render(ContactRow, props());
    const dot = screen.getByTestId('online-dot');
    expect(dot.title).toBe('Online');
    for (const [state, label] of [
      ['syncing', 'Syncing'],
      ['offline', 'Offline'],
    ] as const) {
      await rerender(props(card({ state })));
      expect(dot.dataset.state).toBe(state);
      expect(dot.title).toBe(label);
      expect(dot.classList.contains('syncing')).toBe(state === 'syncing');
      expect(screen.getByTestId('contact-row').textContent).toContain(`${label}:`);
    }
  });
});

describe('a contact row with news in the chat', () => {
  it('pops up the latest thing they did until opened or closed, and counts unread', async () => {
    const latest = chatItem({
      id: 'k1',
      kind: 'comment',
      entry: 'e1',
      entry_label: 'Alps',
      text: 'Which valley?',
      audio: null,
    });
    const p = { ...props(card({ chat: { unread: 2, latest } })), onopenchat: vi.fn() };
    const { rerender } = render(ContactRow, p);
    expect(screen.getByTestId('chat-count').textContent?.trim()).toBe('2');
    const popup = screen.getByTestId('chat-popup');
    expect(popup.textContent).toContain('Bob commented on “Alps”: Which valley?');
    screen.getByTestId('chat-popup-open').click();
    expect(p.onopenchat).toHaveBeenCalledWith('c1');
    screen.getByTestId('chat-popup-close').click();
    await rerender(p);
    expect(screen.queryByTestId('chat-popup')).toBeNull();
    // Something newer shows again.
    const newer = chatItem({ id: 's9', kind: 'viewed', open_for_ms: 12_000, definitely: true, sessions: 1, entries: 1 });
    await rerender({ ...p, contact: card({ chat: { unread: 3, latest: newer } }) });
    expect(screen.getByTestId('chat-popup').textContent).toContain('Bob looked at your panel for 12 s');
    // Read: no pop-up.
    await rerender({ ...p, contact: card({ chat: { unread: 0, latest: { ...newer, unread: false } } }) });
    expect(screen.queryByTestId('chat-popup')).toBeNull();
  });
});
