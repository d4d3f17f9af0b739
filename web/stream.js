// The browser's one event stream: one tab holds it, the other tabs hear it relayed.
import { api, isDenied, MAX_STREAM_ROOMS, newKey } from './api.js';
import { Retry } from './retry.js';

// The Web Lock and the BroadcastChannel; the suffix versions what tabs say to each other.
const NAME = 'pgchat-stream-1';

/**
 * A browser opens at most 6 HTTP/1.1 connections per host and profile: a stream per tab would leave
 * the seventh tab waiting forever. So the tab holding the Web Lock NAME holds the only EventSource,
 * GET /api/events of every room some tab needs, and relays what it hears on the BroadcastChannel
 * NAME. Every tab tracks the highest position relayed; when the holder goes (closed, frozen, put in
 * the back-forward cache), the next tab in the lock's queue reopens the stream after its own highest
 * position and the server replays what came since. The stream follows the tabs' open rooms first,
 * then their rooms lists' most recently active, then what it followed before (so a takeover drops
 * nothing), at most MAX_STREAM_ROOMS; it reconnects only when a room must be added.
 * Without Web Locks (plain http other than localhost) or BroadcastChannel, each tab holds its own.
 *
 * handlers: start() resolves to the position to begin at when no tab has one; onMessage(message);
 * onChange() when state, rooms or role changed; onReset() when the server's log was recreated.
 */
export class SharedStream {
  /** The highest position delivered, or null before this tab knew any. */
  pos = null;
  /** 'connecting', 'live', 'reconnecting', 'offline' or 'denied'. */
  state = 'connecting';
  /** The rooms the stream follows: messages of other rooms do not arrive. */
  rooms = [];
  /** 'leader' (holds the stream), 'follower' (hears it relayed) or 'own' (one stream per tab). */
  role = 'follower';
  #handlers;
  #tab = newKey();
  #want = { open: null, recent: [] };
  #channel = null;
  #joined = false;
  #election = null;
  #resign = null;
  #leading = false;
  #wants = new Map(); // tab -> its want, while leading
  #source = null;
  #following = []; // the rooms #source asked for
  #beginning = null;
  #retry = new Retry((state) => this.#setState(state));

  constructor(handlers) {
    this.#handlers = handlers;
  }

  start() {
    if ('locks' in navigator && 'BroadcastChannel' in window) {
      this.#channel = new BroadcastChannel(NAME);
      this.#channel.onmessage = (event) => this.#receive(event.data);
    }
    // A frozen or cached page runs no code: it must not keep the lock (or a stream) from the others.
    document.addEventListener('freeze', () => this.#leave());
    document.addEventListener('resume', () => this.#join());
    addEventListener('pagehide', () => this.#leave());
    addEventListener('pageshow', (event) => {
      if (event.persisted) this.#join();
    });
    this.#join();
  }

  /** The room this tab shows, once its history is shown (null: none). */
  follow(room) {
    this.#setWant({ ...this.#want, open: room });
  }

  /** This tab's rooms list, most recently active first. */
  recent(rooms) {
    this.#setWant({ ...this.#want, recent: rooms.slice(0, MAX_STREAM_ROOMS) });
  }

  /** Try now rather than at the next backoff step (the browser is back online, the tab is visible). */
  reconnectNow() {
    if (this.#leading && this.#retry.waiting) this.#connect();
  }

  // --- Taking part: every tab -----------------------------------------------------------------

  #join() {
    if (this.#joined) return;
    this.#joined = true;
    // Back from a freeze, relays may have been missed: each room reads them again when it is live.
    if (this.state === 'live') this.#setState('reconnecting');
    if (!this.#channel) {
      this.#lead('own');
      return;
    }
    this.#setRole('follower');
    this.#post({ type: 'hello', tab: this.#tab, want: this.#want });
    const election = new AbortController();
    this.#election = election;
    navigator.locks.request(NAME, { signal: election.signal }, () => {
      if (election.signal.aborted) return null;
      this.#lead('leader');
      return new Promise((resolve) => { this.#resign = resolve; });
    }).catch(() => {}); // withdrawn (AbortError) before it was granted
  }

  #leave() {
    if (!this.#joined) return;
    this.#joined = false;
    this.#election?.abort();
    this.#election = null;
    this.#leading = false;
    this.#disconnect();
    this.#retry.close();
    this.#resign?.();
    this.#resign = null;
    this.#post({ type: 'bye', tab: this.#tab });
  }

  #receive(said) {
    switch (said.type) {
      case 'message':
        this.#advance(said.message.pos);
        this.#handlers.onMessage(said.message);
        break;
      case 'reset':
        this.pos = said.pos;
        this.#handlers.onReset();
        break;
      case 'state':
        if (this.#leading) return;
        this.rooms = said.rooms;
        this.#advance(said.pos);
        this.#setState(said.state);
        break;
      case 'leader':
        if (!this.#leading) this.#post({ type: 'want', tab: this.#tab, want: this.#want });
        break;
      case 'hello':
      case 'want':
        if (!this.#leading) return;
        this.#wants.set(said.tab, said.want);
        if (said.type === 'hello') this.#announce();
        this.#update();
        break;
      case 'bye':
        // Following a room nobody shows costs nothing until the next reconnect drops it.
        this.#wants.delete(said.tab);
        break;
      default: // from a newer page version: not ours to read
    }
  }

  #setWant(want) {
    if (want.open === this.#want.open && want.recent.join() === this.#want.recent.join()) return;
    this.#want = want;
    if (!this.#leading) {
      this.#post({ type: 'want', tab: this.#tab, want });
      return;
    }
    this.#wants.set(this.#tab, want);
    this.#update();
  }

  #advance(pos) {
    if (pos !== null && pos !== undefined && (this.pos === null || pos > this.pos)) this.pos = pos;
  }

  #setState(state) {
    this.state = state;
    if (this.#leading) this.#announce();
    this.#handlers.onChange();
  }

  #setRole(role) {
    this.role = role;
    this.#handlers.onChange();
  }

  #post(said) {
    this.#channel?.postMessage(said);
  }

  // --- Holding the stream: the leader ---------------------------------------------------------

  #lead(role) {
    this.#leading = true;
    this.#wants = new Map([[this.#tab, this.#want]]);
    this.#setRole(role);
    this.#post({ type: 'leader' });
    // Rooms read again what they may have missed, whatever position the last holder reached.
    this.#setState(this.state === 'live' ? 'reconnecting' : this.state);
    this.#connect();
  }

  /** Opens the stream of the rooms wanted now, after the last position; or waits for something to follow. */
  #connect() {
    this.#disconnect();
    if (!this.#leading) return;
    const rooms = this.#wanted();
    if (rooms.length === 0) return;
    if (this.pos === null) {
      this.#beginning ??= this.#begin();
      return;
    }
    const url = api.eventsUrl(rooms, this.pos);
    const source = new EventSource(url);
    this.#source = source;
    this.#following = rooms;
    source.onopen = () => {
      this.rooms = rooms;
      this.#retry.ok();
      this.#setState('live');
    };
    source.addEventListener('message', (event) => this.#relay({ type: 'message', message: JSON.parse(event.data) }));
    // The position was beyond the server's log (its database was recreated): it starts over from its end.
    source.addEventListener('reset', (event) => this.#relay({ type: 'reset', pos: JSON.parse(event.data).lastPos }));
    source.onerror = () => {
      if (source !== this.#source) return;
      // CONNECTING: the browser retries by itself, sending the last id it saw. CLOSED: it gave up
      // (an error status such as 503), so we ask why and retry with backoff.
      if (source.readyState !== EventSource.CLOSED) {
        this.#retry.lost();
        return;
      }
      this.#disconnect();
      api.probe(url).then(() => this.#retry.later(() => this.#connect()), (error) => this.#failed(error));
    };
  }

  async #begin() {
    try {
      const pos = await this.#handlers.start();
      this.#advance(pos);
      this.#beginning = null;
      this.#connect();
    } catch (error) {
      this.#beginning = null;
      this.#failed(error);
    }
  }

  #failed(error) {
    if (!this.#leading) return;
    console.warn('pgchat: the stream:', error);
    if (!isDenied(error)) {
      this.#retry.later(() => this.#connect());
      return;
    }
    // A room may have become forbidden: follow only what the tabs want now, and look again now and
    // then (a session may appear).
    this.rooms = [];
    this.#setState('denied');
    this.#retry.slowly(() => this.#connect());
  }

  #relay(said) {
    this.#post(said);
    this.#receive(said);
  }

  #announce() {
    this.#post({ type: 'state', state: this.state, rooms: this.rooms, pos: this.pos });
  }

  /** Reconnects only to add a room: every room followed now stays while there is space. */
  #update() {
    if (!this.#leading || this.#retry.waiting || this.#beginning) return;
    const following = this.#source ? this.#following : [];
    if (this.#wanted().some((room) => !following.includes(room))) this.#connect();
  }

  #wanted() {
    const wants = [...this.#wants.values()];
    const rooms = new Set([...wants.map((want) => want.open).filter(Boolean),
      ...wants.flatMap((want) => want.recent), ...this.rooms]);
    return [...rooms].slice(0, MAX_STREAM_ROOMS);
  }

  #disconnect() {
    this.#retry.cancel();
    this.#source?.close();
    this.#source = null;
  }
}
