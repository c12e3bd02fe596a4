import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { render, screen } from '@testing-library/svelte';
import Main from '../src/windows/Main.svelte';
import * as api from '../src/lib/api';
import { card } from './fixtures';

vi.mock('../src/lib/api', () => ({
  profile: vi.fn(),
  contacts: vi.fn(),
  contact: vi.fn(),
  pendingJoins: vi.fn(),
  decideJoin: vi.fn(),
  openWindow: vi.fn(),
  removeContact: vi.fn(),
  setName: vi.fn(),
  inbox: vi.fn(),
}));

let emit: ((e: unknown) => void) | null = null;
vi.mock('../src/lib/events', () => ({
  onEngineEvent: (cb: (e: unknown) => void) => {
    const before = emit;
    emit = (e) => {
      before?.(e);
      cb(e);
    };
    return () => {};
  },
}));

const profile = {
  id: 'k51qzi5uqu5dgutdk6i1ynyzgkqngpha5xpgs6fcc4lqvyp1csxnvjq',
  name: 'Alice',
  data_dir: '/home/a/.local/share/backstory',
  network: 'default',
  addrs: [],
};

function inboxOf(n: number): api.InboxView {
  return {
    suggestions: Array.from({ length: n }, (_, i) => ({ id: `s${i}` })),
    rules: [],
    watcher: { available: true, running: true, message: null },
    default_to: [],
  } as unknown as api.InboxView;
}

describe('the main window', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    emit = null;
    vi.mocked(api.profile).mockResolvedValue(profile as api.Profile);
    vi.mocked(api.pendingJoins).mockResolvedValue([]);
    vi.mocked(api.inbox).mockResolvedValue(inboxOf(0));
  });
  afterEach(() => vi.useRealTimers());

  it('says what to do when there are no contacts', async () => {
    vi.mocked(api.contacts).mockResolvedValue([]);
    render(Main);
    await vi.advanceTimersByTimeAsync(10);
    expect(screen.getByTestId('my-name').textContent).toBe('Alice');
    expect(screen.getByTestId('contacts-empty').textContent).toContain('pair with someone by ticket');
    screen.getByTestId('add-contact').click();
    expect(api.openWindow).toHaveBeenCalledWith('pairing', null, null);
  });

  it('reads again only the contact an event names, once per burst, ignoring download progress', async () => {
    vi.mocked(api.contacts).mockResolvedValue([card(), card({ id: 'c2', name: 'Carol' })]);
    render(Main);
    await vi.advanceTimersByTimeAsync(10);
    expect(screen.getAllByTestId('contact-row')).toHaveLength(2);
    expect(api.contacts).toHaveBeenCalledTimes(1);

    emit?.({ event: 'media_progress', contact: 'c1', entry: 'e', bytes: 1, total: 2 });
    await vi.advanceTimersByTimeAsync(300);
    expect(api.contact).not.toHaveBeenCalled();

    vi.mocked(api.contact).mockResolvedValue(card({ mine: { entries: 1, visible: 1, unseen_by_them: 1 } }));
    emit?.({ event: 'entry_posted', contact: 'c1', entry: 'e1' });
    emit?.({ event: 'panel_published', contact: 'c1', visible: 1, next_change: null });
    await vi.advanceTimersByTimeAsync(300);
    // One card read, for the one contact: the list is not read again.
    expect(api.contact).toHaveBeenCalledTimes(1);
    expect(api.contact).toHaveBeenCalledWith('c1');
    expect(api.contacts).toHaveBeenCalledTimes(1);
    const rows = screen.getAllByTestId('contact-row');
    expect(rows[0].querySelector('[data-testid=trigger-icon]')?.getAttribute('data-state')).toBe('content');
    expect(rows[0].querySelector('[data-testid=trigger-count]')?.textContent).toBe('1');
    expect(rows[1].querySelector('[data-testid=trigger-icon]')?.getAttribute('data-state')).toBe('empty');

    // A state change needs no reading at all; a removal drops the row.
    emit?.({ event: 'contact_state', contact: 'c2', state: 'offline' });
    emit?.({ event: 'contact_removed', contact: 'c1' });
    await vi.advanceTimersByTimeAsync(300);
    expect(api.contact).toHaveBeenCalledTimes(1);
    expect(screen.getAllByTestId('contact-row')).toHaveLength(1);
    expect(screen.getByTestId('online-dot').dataset.state).toBe('offline');
  });

  it('asks for my name on first start, and stops asking once it is saved', async () => {
    vi.mocked(api.profile).mockResolvedValue({ ...profile, name: '' } as api.Profile);
    vi.mocked(api.setName).mockResolvedValue(profile as api.Profile);
    vi.mocked(api.contacts).mockResolvedValue([]);
    render(Main);
    await vi.advanceTimersByTimeAsync(10);
    const save = screen.getByTestId('welcome-save') as HTMLButtonElement;
    expect(save.disabled).toBe(true);
    const input = screen.getByTestId('welcome-name') as HTMLInputElement;
    input.value = 'Alice';
    input.dispatchEvent(new Event('input', { bubbles: true }));
    await vi.advanceTimersByTimeAsync(10);
    save.click();
    await vi.advanceTimersByTimeAsync(10);
    expect(api.setName).toHaveBeenCalledWith('Alice');
    expect(screen.queryByTestId('welcome')).toBeNull();
    expect(screen.getByTestId('my-name').textContent).toBe('Alice');
  });

  it('shows how many suggestions wait in the inbox, and follows the watcher', async () => {
    vi.mocked(api.contacts).mockResolvedValue([card()]);
    render(Main);
    await vi.advanceTimersByTimeAsync(10);
    expect(screen.queryByTestId('inbox-badge')).toBeNull();

    vi.mocked(api.inbox).mockResolvedValue(inboxOf(2));
    emit?.({ event: 'suggestion_added', draft: 's1', text: 'Cinema Paradiso' });
    emit?.({ event: 'suggestion_added', draft: 's2', text: 'Lake walk' });
    await vi.advanceTimersByTimeAsync(300);
    expect(screen.getByTestId('inbox-badge').textContent).toBe('2');
    // A burst of events is one read.
    expect(api.inbox).toHaveBeenCalledTimes(2);

    vi.mocked(api.inbox).mockResolvedValue(inboxOf(0));
    emit?.({ event: 'draft_removed', draft: 's1' });
    await vi.advanceTimersByTimeAsync(300);
    expect(screen.queryByTestId('inbox-badge')).toBeNull();
    screen.getByTestId('open-inbox').click();
    expect(api.openWindow).toHaveBeenCalledWith('inbox', null, null);
  });
});
