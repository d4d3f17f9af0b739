// The rooms list: every room with its latest activity and, for rooms read here before, its unread count.
import { h } from './dom.js';
import { remembered } from './store.js';

const clock = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' });
const shortDate = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' });
const relative = new Intl.RelativeTimeFormat(undefined, { style: 'narrow' });

export class RoomList {
  #list;
  #rooms = new Map();
  #items = new Map();
  #current = null;

  constructor(list) {
    this.#list = list;
  }

  /** The server's list, [{room, lastSeq, lastSentAt}]: it may be older than what the stream brought since. */
  update(rooms) {
    for (const { room, lastSeq, lastSentAt } of rooms) this.#learn(room, lastSeq, lastSentAt);
    this.render();
  }

  /** A message of any room, from the stream: its room's activity and unread count follow it. */
  heard(message) {
    this.#learn(message.room, message.seq, message.sentAt);
    this.render();
  }

  /** The rooms' names, most recently active first. */
  recent(limit) {
    return this.#sorted().slice(0, limit);
  }

  open(room) {
    this.#current = room;
    if (!this.#rooms.has(room)) this.#rooms.set(room, { lastSeq: 0, lastSentAt: null });
    remembered.markRead(room, 0); // a room visited while empty counts what arrives later as unread
    this.render();
  }

  /** The open room showed messages up to this one: it is read, and its activity is known without asking. */
  shown(room, message) {
    this.#learn(room, message.seq, message.sentAt);
    remembered.markRead(room, message.seq);
    this.render();
  }

  get totalUnread() {
    let total = 0;
    for (const room of this.#rooms.keys()) total += this.#unread(room);
    return total;
  }

  /** Also when another tab read a room (the unread counts are shared through storage). */
  render() {
    const items = this.#sorted().map((room) => this.#item(room));
    if (items.length === this.#list.children.length && items.every((item, i) => this.#list.children[i] === item)) return;
    // Moving a focused link would blur it: give the focus back, for keyboard users.
    const focused = this.#list.contains(document.activeElement) ? document.activeElement : null;
    this.#list.replaceChildren(...items);
    focused?.focus();
  }

  #learn(room, lastSeq, lastSentAt) {
    const entry = this.#rooms.get(room);
    if (!entry) this.#rooms.set(room, { lastSeq, lastSentAt });
    else if (lastSeq > entry.lastSeq) Object.assign(entry, { lastSeq, lastSentAt });
  }

  #sorted() {
    return [...this.#rooms.keys()].sort((a, b) => this.#order(a, b));
  }

  #order(a, b) {
    const at = (room) => this.#rooms.get(room).lastSentAt ?? '9999';
    return at(b).localeCompare(at(a)) || a.localeCompare(b);
  }

  #unread(room) {
    const read = remembered.readUpTo(room);
    return room === this.#current || read === undefined ? 0 : Math.max(0, this.#rooms.get(room).lastSeq - read);
  }

  #item(room) {
    let item = this.#items.get(room);
    if (!item) {
      item = h('li', {}, h('a', { href: `#/${room}` },
        h('span', { class: 'room-name' }, room), h('time', { class: 'activity' }), h('span', { class: 'badge' })));
      this.#items.set(room, item);
    }
    const link = item.firstElementChild;
    const [, when, badge] = link.children;
    const { lastSentAt } = this.#rooms.get(room);
    const unread = this.#unread(room);
    if (room === this.#current) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
    when.textContent = lastSentAt ? activity(new Date(lastSentAt)) : 'new';
    if (lastSentAt) when.setAttribute('datetime', lastSentAt);
    badge.hidden = unread === 0;
    badge.replaceChildren(unread > 99 ? '99+' : String(unread), h('span', { class: 'visually-hidden' }, ' unread'));
    return item;
  }
}

function activity(at) {
  const minutes = Math.floor((Date.now() - at) / 60_000);
  if (minutes < 1) return 'now';
  if (minutes < 60) return relative.format(-minutes, 'minute');
  if (new Date().toDateString() === at.toDateString()) return clock.format(at);
  return shortDate.format(at);
}
