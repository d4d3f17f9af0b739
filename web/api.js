// The server's HTTP API (see the README), with every failure turned into a sentence a person can act on.

export const ROOM_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const MAX_AUTHOR = 64;
export const MAX_BODY = 4000;
export const MAX_STREAM_ROOMS = 100; // the server's pgchat.stream.rooms.max by default

const roomPath = (room) => `/api/rooms/${encodeURIComponent(room)}`;

export const api = {
  rooms: () => request('/api/rooms'),

  /** Ascending. { after } pages forward; otherwise the newest, or the newest { before } a seq. */
  history(room, { after, before, limit }) {
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries({ after, before, limit })) {
      if (value !== undefined) query.set(name, value);
    }
    return request(`${roomPath(room)}/messages?${query}`);
  },

  /** key names this message: a retry with the same key is stored once, even if the first try was too. */
  post: (room, author, body, key) => request(`${roomPath(room)}/messages`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'Idempotency-Key': key },
    body: JSON.stringify({ author, body }),
  }),

  /** One stream of several rooms, after a position; names need no escaping (ROOM_PATTERN), so "," stays readable. */
  eventsUrl: (rooms, pos) => `/api/events?rooms=${rooms.join(',')}&lastEventId=${pos}`,

  /** Why a stream was refused (EventSource hides the status): throws the reason, or returns when it is open now. */
  async probe(url) {
    const opening = new AbortController();
    await send(url, { signal: opening.signal });
    opening.abort();
  },
};

/** A random key; getRandomValues works on plain http too, where crypto.randomUUID does not. */
export function newKey() {
  return [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, '0')).join('');
}

async function request(path, options) {
  return (await send(path, options)).json();
}

async function send(path, options) {
  let response;
  try {
    response = await fetch(path, options);
  } catch {
    throw new Error('the server cannot be reached (it may be restarting, or you are offline).');
  }
  if (response.ok) return response;
  const error = await response.json().catch(() => ({}));
  throw Object.assign(new Error(explain(response, error)), { status: response.status });
}

/** 401 and 403: this server requires sign-in, or the reader's token does not allow the room. */
export const isDenied = (error) => error?.status === 401 || error?.status === 403;

function explain(response, error) {
  const wait = response.headers.get('Retry-After');
  const retry = `try again in ${wait ? `${wait} s` : 'a moment'}.`;
  // Only "unavailable" is the database; a stopping server (a restart, a deploy) is another matter.
  if (error.error === 'shutting_down') return `this server is stopping (a restart or an update); ${retry}`;
  if (error.error === 'unavailable') return `the server cannot reach its database; ${retry}`;
  if (response.status >= 502 && response.status <= 504 && !error.message) return `the server is unavailable; ${retry}`;
  if (response.status === 413 || error.error === 'body_too_long') {
    return `the message is too long (at most ${MAX_BODY} characters).`;
  }
  // A 429 names its own limit (posts, new rooms) and when to retry: pass it on.
  if (response.status === 429 && !error.message) return 'you are sending too fast; wait a moment and retry.';
  return error.message || `the server answered ${response.status}.`;
}
