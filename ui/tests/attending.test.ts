import { describe, expect, it, vi } from 'vitest';

describe('attention without a window manager', () => {
  it('counts a shown window as looked at when focus is never reported, and stops once it is', async () => {
    vi.resetModules();
    const { attending, watchAttention } = await import('../src/lib/timing');
    vi.spyOn(document, 'hasFocus').mockReturnValue(false);
    const stop = watchAttention({ needMs: 1000, ready: () => true, looked: () => {} });
    expect(attending()).toBe(true);
    window.dispatchEvent(new Event('blur'));
    expect(attending()).toBe(false);
    stop();
  });
});
