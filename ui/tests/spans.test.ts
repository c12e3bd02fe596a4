import { describe, expect, it } from 'vitest';
import { colourIndex, shownSpans, PALETTE_SIZE } from '../src/lib/spans';

const span = (text: string, change: string, time = 1, fresh = false) => ({ text, change, time, new: fresh });

describe('span colours', () => {
  it('are given in order of first appearance of each change', () => {
    const colours = colourIndex([span('a', 'x'), span('b', 'y'), span('c', 'x'), span('d', 'z')]);
    expect([...colours.entries()]).toEqual([
      ['x', 0],
      ['y', 1],
      ['z', 2],
    ]);
  });

  it('wrap around after the palette', () => {
    const spans = Array.from({ length: PALETTE_SIZE + 2 }, (_, i) => span(String(i), `c${i}`));
    const colours = colourIndex(spans);
    expect(colours.get('c0')).toBe(0);
    expect(colours.get(`c${PALETTE_SIZE}`)).toBe(0);
    expect(colours.get(`c${PALETTE_SIZE + 1}`)).toBe(1);
  });

  it('become span-cN classes, with one time label per change after its last span', () => {
    const shown = shownSpans([span('Climbed ', 'a', 100), span('Ventoux', 'b', 200), span(' today', 'a', 100)]);
    expect(shown.map((s) => s.colour)).toEqual(['span-c0', 'span-c1', 'span-c0']);
    expect(shown.map((s) => s.label)).toEqual([null, 200, 100]);
  });

  it('label nothing when one edit session wrote all the text', () => {
    const shown = shownSpans([span('one', 'a', 5), span(' two', 'a', 5)]);
    expect(shown.every((s) => s.label === null)).toBe(true);
    expect(shown.every((s) => s.colour === 'span-c0')).toBe(true);
  });
});
