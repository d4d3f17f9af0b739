// One open room: the newest page of its history, then its messages from the browser's shared stream.
import { api, isDenied } from './api.js';
import { Retry } from './retry.js';

const PAGE = 50;
const FILL = 1000;

/**
 * Every message, whichever way it came (history, the stream, a refill, the answer to our own post),
 * goes through one queue: the page sees each seq once and in ascending order. The stream promises
 * only what follows its own position, so whenever it starts covering the room (live and following
 * it: at first, after a drop, a takeover, a freeze) the room reads from history what came after the
 * last seq shown; a skipped seq is refilled from history too. The room asks the stream to follow it
 * once its history is shown, so a room the reader may not see never reaches the stream.
 *
 * handlers: onReload(messages) replaces what is shown, onMessages(messages) appends, onState(state)
 * with state one of 'connecting', 'live', 'reconnecting', 'offline', 'denied'; onDenied(reason).
 */
export class OpenRoom {
  lastSeq = 0;
  firstSeq = 1;
  state = 'connecting';
  #stream;
  #handlers;
  #queue = Promise.resolve();
  #loaded = false;
  #closed = false;
  #covered = false;
  #generation = 0;
  #trouble = null; // 'denied', 'reconnecting' or 'offline' while this room's own reads fail
  #retry = new Retry((state) => {
    this.#trouble = state;
    this.#update();
  });

  constructor(room, stream, handlers) {
    this.room = room;
    this.#stream = stream;
    this.#handlers = handlers;
  }

  start() {
    this.#covered = this.#coveredNow();
    this.#sync();
  }

  get hasOlder() {
    return this.firstSeq > 1;
  }

  /** A message of this room from the stream, or our own post's answer: shown in its place, once. */
  add(message) {
    this.#enqueue(() => this.#accept(message));
  }

  /** The stream's state or rooms changed: coming to cover this room, it may have skipped some. */
  streamChanged() {
    const covered = this.#coveredNow();
    if (covered && !this.#covered) this.#sync();
    this.#covered = covered;
    this.#update();
  }

  /** The server's log was recreated: what is shown may no longer exist. */
  reset() {
    this.#enqueue(() => this.#reload());
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
    if (this.#retry.waiting) this.#sync();
  }

  close() {
    this.#closed = true;
    this.#retry.close();
    this.#stream.follow(null);
  }

  #coveredNow() {
    return this.#stream.state === 'live' && this.#stream.rooms.includes(this.room);
  }

  #sync() {
    this.#retry.cancel();
    this.#enqueue(async () => {
      if (this.#loaded) await this.#fill();
      else await this.#reload();
      if (this.#closed) return;
      this.#retry.ok();
      this.#trouble = null;
      this.#stream.follow(this.room);
      this.#update();
    });
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
    // Not loaded yet (the first read failed): the reload that will come shows it.
    if (!this.#loaded || message.seq <= this.lastSeq) return;
    // A seq was skipped (our post's answer overtook the stream): the table has every message.
    await this.#fill(message.seq);
    this.#show([message]);
  }

  /** Shows from history what follows the last seq shown, up to before (exclusive) or the newest. */
  async #fill(before) {
    while (before === undefined || this.lastSeq < before - 1) {
      const page = await api.history(this.room, { after: this.lastSeq, before, limit: FILL });
      if (this.#closed) return;
      this.#show(page);
      if (page.length < FILL) return;
    }
  }

  #show(messages) {
    const fresh = messages.filter((message) => message.seq > this.lastSeq);
    if (this.#closed || fresh.length === 0) return;
    this.lastSeq = fresh[fresh.length - 1].seq;
    this.#handlers.onMessages(fresh);
  }

  #enqueue(task) {
    this.#queue = this.#queue.then(task).catch((error) => {
      if (this.#closed) return;
      console.warn(`pgchat: room ${this.room}:`, error);
      if (isDenied(error)) {
        // Retrying at once cannot help: say why, and look again now and then (a session may appear).
        this.#trouble = 'denied';
        this.#stream.follow(null);
        this.#handlers.onDenied?.(error.message);
        this.#retry.slowly(() => this.#sync());
      } else {
        this.#retry.later(() => this.#sync());
      }
      this.#update();
    });
  }

  /** What the reader is told: this room's own trouble first, then the stream's, as far as it covers the room. */
  #update() {
    let state = this.#trouble ?? this.#stream.state;
    if (!this.#trouble && (!this.#loaded || (state === 'live' && !this.#coveredNow()))) state = 'connecting';
    if (this.#closed || state === this.state) return;
    this.state = state;
    this.#handlers.onState(state);
  }
}
