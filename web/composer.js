// The message box: Enter sends, one post at a time, and a failed send goes back in the box to retry.
import { api, MAX_BODY, newKey } from './api.js';
import { $ } from './dom.js';

const HINT = 'Enter to send, Shift+Enter for a new line';

/**
 * A failed send may have been stored after all (the answer was lost), so its retry must reuse its
 * Idempotency-Key: each failed send keeps its own key while its text is in the box, and sending that
 * exact text again reuses it. Another message with the same words is another send, with a new key.
 *
 * page: author() (empty: ask for a name first), askName(), target() gives { room, roomMessages } of
 * the open room, pending(text) shows the message while it is sent (see MessageLog.addPending).
 */
export class Composer {
  #page;
  #input = $('composer-input');
  #sending = Promise.resolve();
  #failed = []; // { text, key } of each failed send whose text is back in the box

  constructor(page) {
    this.#page = page;
    this.#input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        $('composer').requestSubmit();
      }
    });
    this.#input.addEventListener('input', () => this.#changed());
    $('composer').addEventListener('submit', (event) => {
      event.preventDefault();
      this.#send();
    });
  }

  setRoom(room) {
    $('composer-label').textContent = `Message #${room}`;
    this.#input.placeholder = `Message #${room}`;
  }

  focus() {
    this.#input.focus();
  }

  showError(text) {
    $('composer-error').textContent = text ?? '';
    $('composer-error').hidden = !text;
  }

  #send() {
    const text = this.#input.value;
    const length = [...text.trim()].length;
    if (length === 0) return;
    const author = this.#page.author();
    if (!author) {
      this.#page.askName();
      return;
    }
    if (length > MAX_BODY) {
      this.showError(`This message has ${length} characters; the limit is ${MAX_BODY}. Shorten it or send it in parts.`);
      return;
    }
    const key = this.#takeKey(text);
    this.showError(null);
    this.#input.value = '';
    this.#changed();
    const { room, roomMessages } = this.#page.target();
    const pending = this.#page.pending(text);
    // One post at a time, so messages are stored in the order they were written.
    this.#sending = this.#sending.then(async () => {
      try {
        const message = await api.post(room, author, text, key);
        pending.sent(message.seq);
        roomMessages.add(message);
      } catch (error) {
        pending.failed();
        this.#input.value = this.#input.value ? `${text}\n${this.#input.value}` : text;
        this.#failed.push({ text, key });
        this.#changed();
        const elsewhere = room === this.#page.target().room ? '' : ` to #${room}`;
        this.showError(`Not sent${elsewhere}: ${error.message} Your text is back in the box.`);
      }
    });
  }

  #takeKey(text) {
    const index = this.#failed.findIndex((failed) => failed.text === text);
    return index < 0 ? newKey() : this.#failed.splice(index, 1)[0].key;
  }

  #changed() {
    // A failed send whose text was edited away is not retried: what is sent is a new message.
    this.#failed = this.#failed.filter((failed) => this.#input.value.includes(failed.text));
    this.#input.style.height = 'auto';
    this.#input.style.height = `${Math.min(this.#input.scrollHeight, 200)}px`;
    const length = [...this.#input.value].length;
    const hint = $('composer-hint');
    hint.textContent = length > MAX_BODY - 500 ? `${length} / ${MAX_BODY} characters` : HINT;
    hint.classList.toggle('over', length > MAX_BODY);
  }
}
