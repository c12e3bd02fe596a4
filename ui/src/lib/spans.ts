// An entry's text as the viewer reads it: spans written by different edit sessions, each session
// in its own colour (in order of first appearance) and labelled once with its time.

export const PALETTE_SIZE = 6;

export type SpanLike = { text: string; change: string; time: number; new: boolean };

/** Colour index per change hash, in order of first appearance, wrapping after the palette. */
export function colourIndex(spans: readonly SpanLike[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of spans) {
    if (!out.has(s.change)) out.set(s.change, out.size % PALETTE_SIZE);
  }
  return out;
}

export type ShownSpan = SpanLike & {
  /** `span-c0` … `span-c5`. */
  colour: string;
  /** The time to label this span with: set on the last span of each change, else null. */
  label: number | null;
};

/** Spans with their colour class and, once per change (after its last span), its time. */
export function shownSpans(spans: readonly SpanLike[]): ShownSpan[] {
  const colours = colourIndex(spans);
  const last = new Map<string, number>();
  spans.forEach((s, i) => last.set(s.change, i));
  const labelled = colours.size > 1;
  return spans.map((s, i) => ({
    ...s,
    colour: `span-c${colours.get(s.change) ?? 0}`,
    label: labelled && last.get(s.change) === i ? s.time : null,
  }));
}

/** How many edit sessions wrote this text. */
export function changeCount(spans: readonly SpanLike[]): number {
  return new Set(spans.map((s) => s.change)).size;
}
