// How the page waits after a failure: backoff with jitter, and when a dropped connection reads as Offline.

const OFFLINE_AFTER_MS = 5000;
export const MAX_RETRY_MS = 8000;

/**
 * One retry loop (the stream's or a room's). onState(state) hears 'reconnecting', then 'offline' if it
 * lasts; ok() ends the trouble. At most one retry is scheduled at a time.
 */
export class Retry {
  #onState;
  #failures = 0;
  #timer = 0;
  #offlineTimer = 0;
  #offline = false;

  constructor(onState) {
    this.#onState = onState;
  }

  /** The connection dropped; whoever holds it is retrying by itself (EventSource does). */
  lost() {
    if (!navigator.onLine) this.#offline = true;
    this.#onState(this.#offline ? 'offline' : 'reconnecting');
    this.#offlineTimer ||= setTimeout(() => {
      this.#offline = true;
      this.#onState('offline');
    }, OFFLINE_AFTER_MS);
  }

  /** A failure nobody retries by itself: run again after a growing, jittered delay. */
  later(run) {
    this.lost();
    const delay = Math.min(MAX_RETRY_MS, 500 * 2 ** this.#failures++) * (0.75 + Math.random() / 2);
    this.#schedule(run, delay);
  }

  /** Refused (401/403): retrying at once cannot help, but a session may appear. */
  slowly(run) {
    this.#schedule(run, MAX_RETRY_MS);
  }

  ok() {
    this.#failures = 0;
    this.#offline = false;
    clearTimeout(this.#offlineTimer);
    this.#offlineTimer = 0;
  }

  /** Whether a retry is waiting (so "try now" has something to hurry). */
  get waiting() {
    return this.#timer !== 0;
  }

  cancel() {
    clearTimeout(this.#timer);
    this.#timer = 0;
  }

  /** Stops waiting altogether: no retry, no Offline to come. */
  close() {
    this.cancel();
    this.ok();
  }

  #schedule(run, delay) {
    this.cancel();
    this.#timer = setTimeout(() => {
      this.#timer = 0;
      run();
    }, delay);
  }
}
