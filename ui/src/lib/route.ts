// Which window this is: each Tauri window loads index.html with a route in the hash.

export type Route =
  | { window: 'main' }
  | { window: 'pairing'; ticket: string | null }
  | { window: 'settings' }
  | { window: 'inbox' }
  | { window: 'editor'; contact: string }
  | { window: 'viewer'; contact: string }
  | { window: 'chat'; contact: string }
  | { window: 'unknown' };

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Reads a route such as `#/editor/<contact>` or `#/pairing?ticket=…`. */
export function parseRoute(hash: string): Route {
  const raw = hash.replace(/^#\/?/, '');
  const q = raw.indexOf('?');
  const path = q >= 0 ? raw.slice(0, q) : raw;
  const query = new URLSearchParams(q >= 0 ? raw.slice(q + 1) : '');
  const [head, ...rest] = path.split('/');
  const arg = decode(rest.join('/'));
  switch (head) {
    case '':
    case 'main':
      return { window: 'main' };
    case 'pairing':
      return { window: 'pairing', ticket: query.get('ticket') };
    case 'settings':
      return { window: 'settings' };
    case 'inbox':
      return { window: 'inbox' };
    case 'editor':
      return arg ? { window: 'editor', contact: arg } : { window: 'unknown' };
    case 'viewer':
      return arg ? { window: 'viewer', contact: arg } : { window: 'unknown' };
    case 'chat':
      return arg ? { window: 'chat', contact: arg } : { window: 'unknown' };
    default:
      return { window: 'unknown' };
  }
}
