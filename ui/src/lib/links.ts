// Links that came from a panel: only http and https ever become a clickable address.

/** The address, if it is a web link (http or https) a window may offer to open; else null. */
export function webLink(url: string | null | undefined): string | null {
  if (!url) return null;
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.href : null;
  } catch {
    return null;
  }
}
