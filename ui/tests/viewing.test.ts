import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { watchViewing, type ObserverFactory, type ViewingApi } from '../src/lib/viewing';

// The viewer's view signals, driven with a fake clock and a hand-driven IntersectionObserver.
function panel(): HTMLElement {
  const root = document.createElement('div');
  root.innerHTML = '';
  for (const id of ['e1', 'e2']) {
    const li = document.createElement('li');
    li.dataset.entryId = id;
    const a = document.createElement('a');
    a.href = 'https://example.org/';
    a.textContent = 'link';
    li.append(a);
    const audio = document.createElement('audio');
    li.append(audio);
    root.append(li);
  }
  document.body.append(root);
  return root;
}

describe('watching a viewing session', () => {
  let seen: ((e: { target: Element; isIntersecting: boolean }[]) => void) | null;
  const observer: ObserverFactory = (cb) => {
    seen = cb;
    return { observe: () => {}, disconnect: () => {} };
  };
  let api: { begin: ReturnType<typeof vi.fn>; signal: ReturnType<typeof vi.fn>; end: ReturnType<typeof vi.fn> };
  let front = true;

  beforeEach(() => {
    vi.useFakeTimers();
    seen = null;
    front = true;
    api = {
      begin: vi.fn().mockResolvedValue('s1'),
      signal: vi.fn().mockResolvedValue(null),
      end: vi.fn().mockResolvedValue(null),
    };
  });
  afterEach(() => {
    vi.useRealTimers();
    document.body.innerHTML = '';
  });

  function start(root: HTMLElement, heads: string[] | null = ['h1']) {
    return watchViewing({
      root,
      heads: () => heads,
      api: api as unknown as ViewingApi,
      attended: () => front,
      observer,
      checkpointsMs: [3000, 10_500],
      everyMs: 60_000,
    });
  }

  it('begins one session with the heads on screen, and ends it when the window leaves the front', async () => {
    const root = panel();
    const stop = start(root);
    await vi.advanceTimersByTimeAsync(1000);
    expect(api.begin).toHaveBeenCalledTimes(1);
    expect(api.begin).toHaveBeenCalledWith(['h1']);
    front = false;
    await vi.advanceTimersByTimeAsync(300);
    expect(api.end).toHaveBeenCalledWith('s1');
    // Back in front: a new session.
    api.begin.mockResolvedValue('s2');
    front = true;
    await vi.advanceTimersByTimeAsync(300);
    expect(api.begin).toHaveBeenCalledTimes(2);
    stop();
    expect(api.end).toHaveBeenLastCalledWith('s2');
  });

  it('counts an entry as viewed after a second in view, once per session', async () => {
    const root = panel();
    const stop = start(root);
    await vi.advanceTimersByTimeAsync(300);
    const [e1, e2] = root.querySelectorAll('li');
    seen?.([{ target: e1, isIntersecting: true }]);
    await vi.advanceTimersByTimeAsync(500);
    expect(api.signal).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(800);
    expect(api.signal).toHaveBeenCalledWith('s1', 'e1', 'viewed');
    // A glimpse of the second entry is not a view.
    seen?.([{ target: e2, isIntersecting: true }]);
    await vi.advanceTimersByTimeAsync(400);
    seen?.([{ target: e2, isIntersecting: false }]);
    // Scrolling the first out and back in does not count it again.
    seen?.([{ target: e1, isIntersecting: false }]);
    seen?.([{ target: e1, isIntersecting: true }]);
    await vi.advanceTimersByTimeAsync(3000);
    expect(api.signal.mock.calls.filter((c) => c[2] === 'viewed')).toEqual([['s1', 'e1', 'viewed']]);
    stop();
  });

  it('counts hovers, links opened and media played', async () => {
    const root = panel();
    const stop = start(root);
    await vi.advanceTimersByTimeAsync(300);
    const [e1, e2] = root.querySelectorAll('li');
    e2.dispatchEvent(new MouseEvent('mouseover', { bubbles: true }));
    await vi.advanceTimersByTimeAsync(200);
    e2.dispatchEvent(new MouseEvent('mouseout', { bubbles: true }));
    await vi.advanceTimersByTimeAsync(1000);
    expect(api.signal).not.toHaveBeenCalled();
    e1.dispatchEvent(new MouseEvent('mouseover', { bubbles: true }));
    await vi.advanceTimersByTimeAsync(700);
    expect(api.signal).toHaveBeenCalledWith('s1', 'e1', 'hovered');
    const link = e2.querySelector('a')!;
    link.addEventListener('click', (ev) => ev.preventDefault());
    link.click();
    e2.querySelector('audio')!.dispatchEvent(new Event('play'));
    expect(api.signal).toHaveBeenCalledWith('s1', 'e2', 'link_opened');
    expect(api.signal).toHaveBeenCalledWith('s1', 'e2', 'played');
    stop();
  });

  it('records the length so far after a few seconds, past the threshold, then once a minute', async () => {
    const root = panel();
    const stop = start(root);
    await vi.advanceTimersByTimeAsync(2500);
    expect(api.end).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1000);
    expect(api.end).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(7500);
    expect(api.end).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(50_000);
    expect(api.end).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(11_000);
    expect(api.end).toHaveBeenCalledTimes(3);
    stop();
    expect(api.end).toHaveBeenCalledTimes(4);
  });

  it('sends nothing more when the engine answers no session (receipts off)', async () => {
    api.begin.mockResolvedValue(null);
    const root = panel();
    const stop = start(root);
    await vi.advanceTimersByTimeAsync(300);
    const [e1] = root.querySelectorAll('li');
    seen?.([{ target: e1, isIntersecting: true }]);
    e1.querySelector('audio')!.dispatchEvent(new Event('play'));
    await vi.advanceTimersByTimeAsync(20_000);
    stop();
    expect(api.begin).toHaveBeenCalledTimes(1);
    expect(api.signal).not.toHaveBeenCalled();
    expect(api.end).not.toHaveBeenCalled();
  });

  it('does not begin while there is nothing on screen', async () => {
    const stop = start(panel(), null);
    await vi.advanceTimersByTimeAsync(5000);
    stop();
    expect(api.begin).not.toHaveBeenCalled();
  });
});
