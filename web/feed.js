// One open room: the newest page of its history, then its live stream from the last seq shown.
import { api, isDenied } from './api.js';

const PAGE = 50;
const OFFLINE_AFTER_MS = 5000;
const MAX_RETRY_MS = 8000;

/**
 * Every message, whichever way it came (history, stream, a gap refill, the answer to our own post),
 * goes through one queue: the page sees each seq once and in ascending order. Any failure drops the
 * stream and reconnects from the last seq shown, so the server replays exactly what was missed.
 *
 * handlers: onReload(messages) replaces what is shown, onMessages(messages) appends, onState(state)
 * with state one of 'connecting', 'live', 'reconnecting', 'offline'.
 */
export class RoomFeed {
  lastSeq = 0;
  firstSeq = 1;
  state = 'connecting';
  #handlers;
  #queue = Promise.resolve();
  #source = null;
  #loaded = false;
  #closed = false;
  #generation = 0;
  #failures = 0;
  #retryTimer = 0;
  #offlineTimer = 0;

  constructor(room, handlers) {
    this.room = room;
    this.#handlers = handlers;
  }

  start() {
    this.#connect();
  }

  get hasOlder() {
    return this.firstSeq > 1;
  }

  /** A message we learned of outside the stream (our own post): shown in its place, once. */
  add(message) {
    this.#enqueue(() => this.#accept(message));
  }

  /** The page before the oldest shown, or null when the room was reloaded meanwhile. */
  async loadOlder() {
    const generation = this.#generation;
    const page = await api.history(this.room, { before: this.firstSeq, limit: PAGE });
    if (this.#closed || generation !== this.#generation) return null;
    this.firstSeq = page.length ? page[0].seq : 1;
    return page;
  }

  /** Try now rather than at the next backoff step (the browser is back online, the tab is visible). */
  reconnectNow() {
    if (this.#closed || this.state === 'live' || this.state === 'connecting') return;
    this.#disconnect();
    this.#connect();
  }

  close() {
    this.#closed = true;
    this.#disconnect();
    clearTimeout(this.#offlineTimer);
  }

  #connect() {
    this.#enqueue(async () => {
      if (!this.#loaded) await this.#reload();
      this.#open();
    });
  }

  #open() {
    if (this.#closed) return;
    const source = new EventSource(api.eventsUrl(this.room, this.lastSeq));
    this.#source = source;
    source.onopen = () => {
      this.#failures = 0;
      clearTimeout(this.#offlineTimer);
      this.#offlineTimer = 0;
      this.#setState('live');
    };
    source.addEventListener('message', (event) => {
      const message = JSON.parse(event.data);
      this.#enqueue(() => this.#accept(message));
    });
    // The server no longer has what we showed (its database was recreated): start over from it.
    source.addEventListener('reset', () => this.#enqueue(() => this.#reload()));
    source.onerror = () => {
      if (source !== this.#source) return;
      // CONNECTING: the browser retries by itself, sending the last id it saw. CLOSED: it gave up
      // (an error status such as 503), so we retry with backoff.
      if (source.readyState !== EventSource.CLOSED) {
        this.#lost();
        return;
      }
      // Closed for good by an error status: ask the API why (a 401 is not worth retrying), then retry.
      this.#disconnect();
      this.#enqueue(async () => {
        await api.history(this.room, { after: this.lastSeq, limit: 1 });
        this.#retryLater();
      });
    };
  }

  async #reload() {
    this.#generation++;
    const page = await api.history(this.room, { limit: PAGE });
    if (this.#closed) return;
    this.#loaded = true;
    this.lastSeq = page.length ? page[page.length - 1].seq : 0;
    this.firstSeq = page.length ? page[0].seq : 1;
    this.#handlers.onReload(page);
  }

  async #accept(message) {
    if (message.seq <= this.lastSeq) return;
    // A seq was skipped (our post's answer overtook the stream): the table has every message.
    while (this.lastSeq < message.seq - 1) {
      const missing = await api.history(this.room, { after: this.lastSeq, before: message.seq, limit: 1000 });
      if (this.#closed) return;
      if (missing.length === 0) break;
      this.#show(missing.filter((m) => m.seq > this.lastSeq));
    }
    this.#show([message]);
  }

  #show(messages) {
    if (this.#closed || messages.length === 0) return;
    this.lastSeq = messages[messages.length - 1].seq;
    this.#handlers.onMessages(messages);
  }

  #enqueue(task) {
    this.#queue = this.#queue.then(task).catch((error) => {
      console.warn(`pgchat: room ${this.room}:`, error);
      if (isDenied(error)) {
        // Retrying at once cannot help: say why, and look again now and then (a session may appear).
        this.#disconnect();
        this.#setState('denied');
        this.#handlers.onDenied?.(error.message);
        this.#retryTimer = setTimeout(() => this.#connect(), MAX_RETRY_MS);
        return;
      }
      this.#retryLater();
    });
  }

  #retryLater() {
    if (this.#closed) return;
    this.#disconnect();
    this.#lost();
    const delay = Math.min(MAX_RETRY_MS, 500 * 2 ** this.#failures++) * (0.75 + Math.random() / 2);
    this.#retryTimer = setTimeout(() => this.#connect(), delay);
  }

  #lost() {
    if (!navigator.onLine) {
      this.#setState('offline');
      return;
    }
    if (this.state !== 'offline') this.#setState('reconnecting');
    this.#offlineTimer ||= setTimeout(() => this.#setState('offline'), OFFLINE_AFTER_MS);
  }

  #disconnect() {
    clearTimeout(this.#retryTimer);
    this.#source?.close();
    this.#source = null;
  }

  #setState(state) {
    if (this.#closed || state === this.state) return;
    this.state = state;
    this.#handlers.onState(state);
  }
}
