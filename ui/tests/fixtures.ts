// Data shaped like the back end's answers, for the component tests.
import type { ChangedEntry, ChatItem, ContactCard, TheirPanel } from '../src/lib/api';

export function card(over: Partial<ContactCard> = {}): ContactCard {
  return {
    id: 'c1',
    name: 'Bob',
    paired: true,
    state: 'online',
    words: 'amber lantern river',
    mine: { entries: 0, visible: 0, unseen_by_them: 0 },
    theirs: { shared: false, unseen: 0, updated: null, problem: null },
    receipts: true,
    chat: { unread: 0, latest: null },
    ...over,
  } as ContactCard;
}

export function changed(over: Partial<ChangedEntry> & { text?: string } = {}): ChangedEntry {
  const text = over.text ?? 'Climbed Mont Ventoux';
  return {
    entry: {
      kind: 'text',
      id: 'e1',
      category: 'activities',
      text,
      created: Date.now() - 3_600_000,
      edited: Date.now() - 3_600_000,
      source: 'manual',
    },
    state: 'new',
    spans: [{ text, change: 'aaa', time: Date.now() - 3_600_000, new: true }],
    ...over,
  } as ChangedEntry;
}

export function theirPanel(entries: ChangedEntry[], heads = ['h1']): TheirPanel {
  return {
    contact: { id: 'c1', name: 'Alice', created: 0, outbox: 'o', inbound: 'i', peer: 'p' },
    shared: true,
    changes: {
      categories: [
        { id: 'activities', name: null },
        { id: 'travel', name: null },
      ],
      entries,
      removed: [],
      heads,
    },
  } as TheirPanel;
}

export function chatItem(over: Partial<ChatItem> & Record<string, unknown> = {}): ChatItem {
  return {
    id: 'i1',
    from_me: false,
    at: Date.now() - 60_000,
    delivered: null,
    unread: true,
    kind: 'message',
    text: 'hello',
    ...over,
  } as ChatItem;
}
