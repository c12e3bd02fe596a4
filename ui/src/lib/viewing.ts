// What the viewer window reports while their panel is in front of me: one viewing session per
// stay in front (begun with the heads on screen, its length measured by the engine), and within
// it, per entry: in view for a second (an IntersectionObserver, not a guess), the pointer resting
// on it, its link opened, its media played. The engine writes nothing of this when receipts are
// off; then `begin` answers no session and nothing else is sent.

import { attending } from './timing';

export type Signal = 'viewed' | 'hovered' | 'link_opened' | 'played';

export type ViewingApi = {
  /** Starts a session; null when receipts are off. */
  begin: (heads: string[]) => Promise<string | null>;
  signal: (session: string, entry: string, signal: Signal) => Promise<unknown>;
  /** Records the session's length so far (called when it ends, and once past the threshold). */
  end: (session: string) => Promise<unknown>;
};

/** The part of IntersectionObserver used here, so tests can drive it. */
export type Observer = { observe: (el: Element) => void; disconnect: () => void };
export type ObserverFactory = (
  seen: (entries: { target: Element; isIntersecting: boolean }[]) => void,
) => Observer;

export type Viewing = {
  /** The element holding the entries (`[data-entry-id]`). */
  root: HTMLElement;
  /** The heads on screen, or null while there is nothing to look at. */
  heads: () => string[] | null;
  api: ViewingApi;
  /** How long an entry must be in view to count, in ms. */
  dwellMs?: number;
  /** How long the pointer must rest on an entry to count, in ms. */
  hoverMs?: number;
  /** After these lengths in front (ms), and every `everyMs` after the last, the length so far is
   * recorded while the session goes on, so a window closed abruptly still counts for what it was:
   * a few seconds, past the usual threshold, and then once a minute. */
  checkpointsMs?: number[];
  everyMs?: number;
  attended?: () => boolean;
  observer?: ObserverFactory;
  tickMs?: number;
  /** Errors from the back end (shown by the window). */
  onerror?: (e: unknown) => void;
};

function entryOf(el: EventTarget | null): string | null {
  if (!(el instanceof Element)) return null;
  const host = el.closest<HTMLElement>('[data-entry-id]');
  return host?.dataset.entryId ?? null;
}

const defaultObserver: ObserverFactory = (seen) =>
  typeof IntersectionObserver === 'undefined'
    ? { observe: () => {}, disconnect: () => {} }
    : new IntersectionObserver((entries) => seen(entries), { threshold: 0.5 });

/** Watches until the returned function is called (which ends a session in progress). */
export function watchViewing(v: Viewing): () => void {
  const tick = v.tickMs ?? 250;
  const dwell = v.dwellMs ?? 1000;
  const hoverMs = v.hoverMs ?? 600;
  const checkpoints = v.checkpointsMs ?? [3000, 10_500];
  const every = v.everyMs ?? 60_000;
  const attended = v.attended ?? (() => attending());
  const fail = v.onerror ?? (() => {});
  const now = () => Date.now();

  let session: string | null = null;
  let starting = false;
  let startedAt = 0;
  /** The next length at which to record the session's length so far. */
  let nextCheckpoint = 0;
  const checkpointAfter = (done: number) =>
    checkpoints.find((c) => c > done) ?? Math.max(done, checkpoints.at(-1) ?? 0) + every;
  /** Entries counted as viewed (or hovered) in this session. */
  let viewed = new Set<string>();
  let hovered = new Set<string>();
  /** Entries in view now, since when. */
  const inView = new Map<string, number>();

  const send = (entry: string, signal: Signal) => {
    if (!session) return;
    v.api.signal(session, entry, signal).catch(fail);
  };

  const finish = () => {
    const s = session;
    session = null;
    if (s) v.api.end(s).catch(fail);
  };

  const start = async (heads: string[]) => {
    starting = true;
    try {
      session = await v.api.begin(heads);
      startedAt = now();
      nextCheckpoint = checkpointAfter(0);
      viewed = new Set();
      hovered = new Set();
      // What is in view already started its second when the session did.
      for (const id of inView.keys()) inView.set(id, startedAt);
    } catch (e) {
      fail(e);
    } finally {
      starting = false;
    }
  };

  // Whether a session was asked for in this stay in front (none comes back with receipts off).
  let asked = false;
  const timer = setInterval(() => {
    const heads = v.heads();
    const front = attended() && heads !== null && heads.length > 0;
    if (!front) {
      asked = false;
      finish();
      return;
    }
    if (!asked && !starting) {
      asked = true;
      void start(heads);
      return;
    }
    if (!session) return;
    const t = now();
    for (const [id, since] of inView) {
      if (!viewed.has(id) && t - since >= dwell) {
        viewed.add(id);
        send(id, 'viewed');
      }
    }
    if (t - startedAt >= nextCheckpoint) {
      nextCheckpoint = checkpointAfter(t - startedAt);
      v.api.end(session).catch(fail);
    }
  }, tick);

  const observer = (v.observer ?? defaultObserver)((entries) => {
    for (const e of entries) {
      const id = entryOf(e.target);
      if (!id) continue;
      if (e.isIntersecting) {
        if (!inView.has(id)) inView.set(id, now());
      } else {
        inView.delete(id);
      }
    }
  });
  const observed = new WeakSet<Element>();
  const observeAll = () => {
    for (const el of v.root.querySelectorAll('[data-entry-id]')) {
      if (!observed.has(el)) {
        observed.add(el);
        observer.observe(el);
      }
    }
  };
  observeAll();
  const mutations = new MutationObserver(observeAll);
  mutations.observe(v.root, { childList: true, subtree: true });

  const hoverTimers = new Map<string, ReturnType<typeof setTimeout>>();
  const onOver = (e: Event) => {
    const id = entryOf(e.target);
    if (!id || hovered.has(id) || hoverTimers.has(id)) return;
    hoverTimers.set(
      id,
      setTimeout(() => {
        hoverTimers.delete(id);
        if (session && !hovered.has(id)) {
          hovered.add(id);
          send(id, 'hovered');
        }
      }, hoverMs),
    );
  };
  const onOut = (e: Event) => {
    const id = entryOf(e.target);
    const to = entryOf((e as MouseEvent).relatedTarget);
    if (!id || to === id) return;
    const timerId = hoverTimers.get(id);
    if (timerId) clearTimeout(timerId);
    hoverTimers.delete(id);
  };
  const onClick = (e: Event) => {
    const target = e.target instanceof Element ? e.target.closest('a[href]') : null;
    const id = entryOf(target);
    if (id) send(id, 'link_opened');
  };
  const onPlay = (e: Event) => {
    const id = entryOf(e.target);
    if (id) send(id, 'played');
  };
  v.root.addEventListener('mouseover', onOver);
  v.root.addEventListener('mouseout', onOut);
  v.root.addEventListener('click', onClick, true);
  // `play` does not bubble: listen on the way down.
  v.root.addEventListener('play', onPlay, true);
  window.addEventListener('pagehide', finish);

  return () => {
    clearInterval(timer);
    observer.disconnect();
    mutations.disconnect();
    for (const id of hoverTimers.values()) clearTimeout(id);
    v.root.removeEventListener('mouseover', onOver);
    v.root.removeEventListener('mouseout', onOut);
    v.root.removeEventListener('click', onClick, true);
    v.root.removeEventListener('play', onPlay, true);
    window.removeEventListener('pagehide', finish);
    finish();
  };
}
