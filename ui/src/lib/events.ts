// What the windows hear from the back end: the engine's typed event, and files dropped on the
// window. Each subscription returns a plain function that stops it (safe to call before the
// subscription has settled, and outside Tauri where there is nothing to hear).

import { getCurrentWebview } from '@tauri-apps/api/webview';
import { events } from './bindings';

type Listen = Parameters<typeof events.engineEvent.listen>[0];
/** Something the engine did or noticed. */
export type EngineEvent = Parameters<Listen>[0]['payload'];
export type EngineEventName = EngineEvent['event'];

function settle(pending: Promise<() => void>): () => void {
  let stopped = false;
  let stop: (() => void) | null = null;
  pending.then(
    (fn) => {
      if (stopped) fn();
      else stop = fn;
    },
    () => {},
  );
  return () => {
    stopped = true;
    stop?.();
    stop = null;
  };
}

/** Calls `handler` with every engine event until the returned function is called. */
export function onEngineEvent(handler: (event: EngineEvent) => void): () => void {
  try {
    return settle(events.engineEvent.listen((e) => handler(e.payload)));
  } catch {
    return () => {};
  }
}

export type DropHandlers = {
  /** Files are being dragged over the window (true) or left it (false). */
  hover: (over: boolean) => void;
  /** Files were dropped: their absolute paths. */
  drop: (paths: string[]) => void;
};

/** Hears files dragged onto the window (Tauri hands over their paths). */
export function onFileDrop(handlers: DropHandlers): () => void {
  try {
    return settle(
      getCurrentWebview().onDragDropEvent((e) => {
        const p = e.payload;
        if (p.type === 'enter' || p.type === 'over') handlers.hover(true);
        else if (p.type === 'leave') handlers.hover(false);
        else if (p.type === 'drop') {
          handlers.hover(false);
          if (p.paths.length > 0) handlers.drop(p.paths);
        }
      }),
    );
  } catch {
    return () => {};
  }
}
