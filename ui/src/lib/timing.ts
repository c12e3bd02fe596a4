// Small clocks the windows run: a debouncer for bursts of events, and the attention watch that
// decides when a panel has been looked at.

export type Debounced = { (): void; cancel: () => void };

/** Calls `run` once, `ms` after the last of a burst of calls. */
export function debounce(run: () => void, ms: number): Debounced {
  let timer: ReturnType<typeof setTimeout> | null = null;
  const fn = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      run();
    }, ms);
  };
  fn.cancel = () => {
    if (timer) clearTimeout(timer);
    timer = null;
  };
  return fn;
}

/** Calls `run` once the page has drawn its next frame (after 16 ms where there are no frames to
 * wait for); answers a function that cancels it. */
export function afterPaint(run: () => void): () => void {
  let timer: ReturnType<typeof setTimeout> | null = null;
  let frame: number | null = null;
  // The frame's callbacks run before it is drawn: the timer set there runs after.
  if (typeof requestAnimationFrame === 'function') frame = requestAnimationFrame(() => (timer = setTimeout(run, 0)));
  else timer = setTimeout(run, 16);
  return () => {
    if (frame !== null) cancelAnimationFrame(frame);
    if (timer) clearTimeout(timer);
  };
}

let lastActivity = -Infinity;
let hearing = false;
/** Whether this window ever got or lost the focus. Without a window manager (a bare X server) it
 * never does, and `hasFocus()` stays false: then being shown is all we can know. */
let focusKnown = false;

/** Notes pointer, wheel and key activity in this window (some window managers misreport focus). */
function hearActivity() {
  if (hearing || typeof window === 'undefined') return;
  hearing = true;
  const note = () => (lastActivity = Date.now());
  for (const type of ['pointermove', 'pointerdown', 'wheel', 'keydown', 'scroll']) {
    window.addEventListener(type, note, { passive: true, capture: true });
  }
  const known = () => (focusKnown = true);
  window.addEventListener('focus', known);
  window.addEventListener('blur', known);
}

/** Whether the person can be looking at this window: it is shown, and it has the focus or was
 * used in the last few seconds (or focus is not reported at all). */
export function attending(doc: Document = document): boolean {
  if (doc.visibilityState !== 'visible') return false;
  return doc.hasFocus() || Date.now() - lastActivity < 3000 || !focusKnown;
}

export type AttentionWatch = {
  /** How long the window must be attended without a break. */
  needMs: number;
  /** Whether there is something to acknowledge now (the list is shown and not yet marked). */
  ready: () => boolean;
  /** Called once the window has been attended for `needMs` while ready. */
  looked: () => void;
  /** Whether the window is attended; by default visible and focused. */
  attended?: () => boolean;
  tickMs?: number;
};

/** Watches attention until the returned function is called. */
export function watchAttention(w: AttentionWatch): () => void {
  const tick = w.tickMs ?? 250;
  if (!w.attended) hearActivity();
  const attended = w.attended ?? (() => attending());
  let spent = 0;
  const timer = setInterval(() => {
    if (!w.ready() || !attended()) {
      spent = 0;
      return;
    }
    spent += tick;
    if (spent >= w.needMs) {
      spent = 0;
      w.looked();
    }
  }, tick);
  return () => clearInterval(timer);
}
