import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { debounce, watchAttention } from '../src/lib/timing';

describe('timing', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('debounce runs once after a burst', () => {
    const run = vi.fn();
    const d = debounce(run, 150);
    d();
    vi.advanceTimersByTime(100);
    d();
    d();
    vi.advanceTimersByTime(149);
    expect(run).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(run).toHaveBeenCalledTimes(1);
  });

  it('attention must last without a break', () => {
    let attended = true;
    let ready = true;
    const looked = vi.fn(() => (ready = false));
    const stop = watchAttention({ needMs: 3000, ready: () => ready, looked, attended: () => attended });
    vi.advanceTimersByTime(2000);
    attended = false;
    vi.advanceTimersByTime(500);
    attended = true;
    vi.advanceTimersByTime(2750);
    expect(looked).not.toHaveBeenCalled();
    vi.advanceTimersByTime(250);
    expect(looked).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(10_000);
    expect(looked).toHaveBeenCalledTimes(1);
    stop();
  });
});
