// The open room's messages: rendered as text only, an author's consecutive messages grouped, days
// separated, times in the reader's own time zone and language.
import { h } from './dom.js';

const GROUP_WITHIN_MS = 5 * 60 * 1000;
const TONES = 8;
const URL_PATTERN = /https?:\/\/\S+/g;
const clock = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' });
const fullDate = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'medium' });
const date = new Intl.DateTimeFormat(undefined, { weekday: 'long', month: 'long', day: 'numeric' });
const dateWithYear = new Intl.DateTimeFormat(undefined, { dateStyle: 'full' });
const days = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

export class MessageLog {
  #list;
  #me;

  constructor(list, me) {
    this.#list = list;
    this.#me = me;
  }

  /** Own messages are marked by name, so a new name re-marks what is shown. */
  setMe(name) {
    this.#me = name;
    for (const element of this.#list.children) markOwn(element, name);
  }

  clear() {
    this.#list.replaceChildren();
  }

  get empty() {
    return this.#list.childElementCount === 0;
  }

  /** Messages newer than all shown, ascending; they go before any that are still being sent. */
  append(messages) {
    for (const message of messages) {
      this.#list.querySelector(`[data-pending-seq="${message.seq}"]`)?.remove();
      const element = this.#render(message);
      this.#list.insertBefore(element, this.#list.querySelector('.pending'));
      link(element);
    }
    const pending = this.#list.querySelector('.pending');
    if (pending) link(pending);
  }

  /** Messages older than all shown, ascending. */
  prepend(messages) {
    const formerFirst = this.#list.firstElementChild;
    const elements = messages.map((message) => this.#render(message));
    this.#list.prepend(...elements);
    for (const element of elements) link(element);
    if (formerFirst) link(formerFirst);
  }

  /** Shown at once while it is posted; replaced by the stored message when that is shown. */
  addPending(body) {
    const element = this.#render({ author: this.#me, body, sentAt: new Date().toISOString() });
    const status = h('span', { class: 'status' }, 'Sending…');
    element.classList.add('pending');
    element.querySelector('.bubble').append(status);
    this.#list.append(element);
    link(element);
    return {
      sent: (seq) => {
        if (this.#list.querySelector(`[data-seq="${seq}"]`)) {
          element.remove();
        } else {
          element.dataset.pendingSeq = seq;
          status.textContent = 'Sent';
        }
      },
      failed: () => {
        const next = element.nextElementSibling;
        element.remove();
        if (next) link(next);
      },
    };
  }

  #render(message) {
    const sentAt = new Date(message.sentAt);
    const element = h('li', {
      class: 'message', 'data-seq': message.seq, 'data-author': message.author, 'data-time': sentAt.getTime(),
    },
    h('span', { class: `avatar tone-${tone(message.author)}`, 'aria-hidden': 'true' }, initial(message.author)),
    h('div', { class: 'content' },
      h('p', { class: 'author' }, message.author),
      h('div', { class: 'bubble' },
        h('p', { class: 'body' }, linkify(message.body)),
        h('time', { datetime: message.sentAt, title: fullDate.format(sentAt) }, clock.format(sentAt)))));
    markOwn(element, this.#me);
    return element;
  }
}

function markOwn(element, me) {
  element.classList.toggle('own', element.dataset.author === me);
}

/** Sets how a message joins the one before it: same author within minutes, or a new day. */
function link(element) {
  const previous = element.previousElementSibling;
  const time = Number(element.dataset.time);
  const newDay = !previous || dayOf(Number(previous.dataset.time)) !== dayOf(time);
  element.classList.toggle('continued', !newDay && previous.dataset.author === element.dataset.author
    && time - Number(previous.dataset.time) < GROUP_WITHIN_MS);
  const divider = element.querySelector(':scope > .day');
  if (newDay && !divider) element.prepend(h('p', { class: 'day' }, dayLabel(time)));
  if (!newDay) divider?.remove();
}

const dayOf = (time) => new Date(time).toDateString();

function dayLabel(time) {
  const daysAgo = Math.round((startOfDay(Date.now()) - startOfDay(time)) / 86_400_000);
  if (daysAgo < 2) {
    const label = days.format(-daysAgo, 'day');
    return label[0].toUpperCase() + label.slice(1);
  }
  const sameYear = new Date(time).getFullYear() === new Date().getFullYear();
  return (sameYear ? date : dateWithYear).format(time);
}

function startOfDay(time) {
  const day = new Date(time);
  day.setHours(0, 0, 0, 0);
  return day.getTime();
}

/** Text with http(s) addresses as links; everything else stays text. */
function linkify(text) {
  const parts = [];
  let at = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    const url = match[0].replace(/[.,;:!?)\]'"]+$/, '');
    parts.push(text.slice(at, match.index),
      h('a', { href: url, target: '_blank', rel: 'noopener noreferrer nofollow' }, url));
    at = match.index + url.length;
  }
  parts.push(text.slice(at));
  return parts;
}

function initial(name) {
  return ([...name.trim()][0] ?? '?').toUpperCase();
}

function tone(name) {
  let hash = 0;
  for (const char of name) hash = (hash * 31 + char.codePointAt(0)) >>> 0;
  return hash % TONES;
}
