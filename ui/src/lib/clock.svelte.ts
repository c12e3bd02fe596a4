// "Now", refreshed every 30 s, so relative times ("5 min ago") stay true while a window is open.

let now = $state(Date.now());
let started = false;

export const clock = {
  get now(): number {
    if (!started && typeof window !== 'undefined') {
      started = true;
      setInterval(() => (now = Date.now()), 30_000);
    }
    return now;
  },
};
