// The chat page: wires the browser's shared stream, the rooms list, the open room (its messages from
// history and the stream, and its log), the composer and the name.
import { api, MAX_AUTHOR, MAX_STREAM_ROOMS, ROOM_PATTERN } from './api.js';
import { Composer } from './composer.js';
import { $, h } from './dom.js';
import { OpenRoom } from './open-room.js';
import { MessageLog } from './messages.js';
import { RoomList } from './rooms.js';
import { remembered } from './store.js';
import { SharedStream } from './stream.js';

const DEFAULT_ROOM = 'general';
const STATES = {
  connecting: ['Connecting…', 'Loading the room.'],
  live: ['Live', 'New messages appear as they are sent.'],
  reconnecting: ['Reconnecting…', 'The connection dropped. Messages sent meanwhile will appear when it is back.'],
  offline: ['Offline', 'The server cannot be reached; retrying. Messages sent meanwhile will appear when it is back.'],
  denied: ['Sign-in needed', 'This server requires sign-in, or your sign-in does not allow this room.'],
};

const scroller = $('scroller');
const dialog = $('name-dialog');
const roomsToggle = $('rooms-toggle');
const pointerIsFine = matchMedia('(pointer: fine)').matches;
const log = new MessageLog($('messages'), '');
const rooms = new RoomList($('rooms'));
const stream = new SharedStream({
  start: async () => startPos ?? maxPos(await loadRooms()),
  onMessage(message) {
    rooms.heard(message);
    updateUnreadTotal();
    if (message.room === room) roomMessages.add(message);
  },
  onChange() {
    document.documentElement.dataset.streamRole = stream.role;
    roomMessages?.streamChanged();
  },
  onReset() {
    roomMessages?.reset();
    refreshRooms();
  },
});
const composer = new Composer({
  author: () => me,
  askName,
  target: () => ({ room, roomMessages }),
  pending(text) {
    const pending = log.addPending(text);
    $('empty').hidden = true;
    scrollToBottom();
    return pending;
  },
});

let me = '';
let room = null;
let roomMessages = null;
let startPos = null; // where a stream may begin when no tab has one: the newest rooms list's
let roomsLoading = null;
let newBelow = 0;
let newWhileHidden = 0;
let loadingOlder = false;
let toastTimer = 0;

// --- The open room ---------------------------------------------------------------------------

function openRoom(name) {
  if (name === room) return;
  roomMessages?.close();
  room = name;
  remembered.setRoom(name);
  log.clear();
  newBelow = 0;
  showJump();
  composer.showError(null);
  $('room-name').textContent = name;
  composer.setRoom(name);
  $('older').hidden = true;
  $('empty').hidden = true;
  rooms.open(name);
  updateTitle();
  setDrawer(false);
  roomMessages = new OpenRoom(name, stream, {
    onReload: showHistory, onMessages: showNew, onState: showState, onDenied: (why) => toast(`Cannot open #${name}: ${why}`),
  });
  showState(roomMessages.state);
  roomMessages.start();
  if (pointerIsFine && !dialog.open) composer.focus();
}

function showHistory(messages) {
  log.clear();
  log.append(messages);
  shown(messages);
  scrollToBottom();
}

function showNew(messages) {
  const stick = nearBottom();
  log.append(messages);
  shown(messages);
  const fromOthers = messages.filter((message) => message.author !== me);
  announce(fromOthers);
  if (document.hidden) {
    newWhileHidden += fromOthers.length;
    updateTitle();
  }
  if (stick || fromOthers.length < messages.length) {
    scrollToBottom();
  } else {
    newBelow += fromOthers.length;
    showJump();
  }
}

function shown(messages) {
  if (messages.length) rooms.shown(room, messages[messages.length - 1]);
  $('empty').hidden = !log.empty;
  $('empty').textContent = `No messages in #${room} yet. Say hello!`;
  updateOlder();
  updateUnreadTotal();
}

function announce(messages) {
  const announcer = $('announcer');
  const lines = messages.length > 3
    ? [`${messages.length} new messages in #${room}`]
    : messages.map((message) => `${message.author}: ${message.body}`);
  for (const line of lines) announcer.append(h('p', {}, line));
  while (announcer.childElementCount > 5) announcer.firstElementChild.remove();
}

function showState(state) {
  const [text, explanation] = STATES[state];
  $('connection').dataset.state = state;
  $('connection').title = explanation;
  $('connection-text').textContent = text;
}

function updateTitle() {
  document.title = `${newWhileHidden ? `(${newWhileHidden}) ` : ''}#${room} · pgchat`;
}

// --- Scrolling: stay at the newest message unless the reader scrolled up; load older at the top --

const nearBottom = () => scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 64;

function scrollToBottom() {
  scroller.scrollTop = scroller.scrollHeight;
  newBelow = 0;
  showJump();
}

function showJump() {
  const jump = $('jump');
  jump.hidden = newBelow === 0;
  jump.textContent = `${newBelow} new message${newBelow === 1 ? '' : 's'} ↓`;
}

function updateOlder() {
  $('older').hidden = false;
  $('load-older').hidden = !roomMessages.hasOlder;
  $('beginning').hidden = roomMessages.hasOlder || log.empty;
  $('beginning').textContent = `This is the beginning of #${room}.`;
}

async function loadOlder() {
  if (loadingOlder || !roomMessages?.hasOlder) return;
  const current = roomMessages;
  loadingOlder = true;
  $('load-older').textContent = 'Loading…';
  try {
    const page = await current.loadOlder();
    if (!page || current !== roomMessages) return;
    const fromBottom = scroller.scrollHeight - scroller.scrollTop;
    log.prepend(page);
    scroller.scrollTop = scroller.scrollHeight - fromBottom;
  } catch (error) {
    toast(`Older messages could not be loaded: ${error.message}`);
    return;
  } finally {
    loadingOlder = false;
    $('load-older').textContent = 'Load older messages';
    if (current === roomMessages) updateOlder();
  }
  // A short page may leave the top in view, where the observer will not fire again.
  if (topInView()) loadOlder();
}

const topInView = () => $('older').getBoundingClientRect().bottom >= scroller.getBoundingClientRect().top;

// --- The display name ------------------------------------------------------------------------

function setMe(name) {
  me = name;
  log.setMe(name);
  $('my-name').textContent = name || 'reading anonymously';
  $('change-name').textContent = name ? 'Change name' : 'Choose a name';
}

function askName() {
  $('name-title').textContent = me ? 'Change your name' : 'Welcome to pgchat';
  $('name-input').value = me;
  $('name-error').hidden = true;
  dialog.showModal();
}

function nameProblem(name) {
  if (!name) return 'Please type a name.';
  if ([...name].length > MAX_AUTHOR) return `A name has at most ${MAX_AUTHOR} characters.`;
  if (/\p{Cc}/u.test(name)) return 'A name cannot contain control characters.';
  return null;
}

// --- Rooms: the list, creating one, routing by #/room-name, the drawer on small screens ---------

/** The rooms list from the server (the stream then keeps it current); one request at a time. */
function loadRooms() {
  $('rooms').setAttribute('aria-busy', 'true');
  roomsLoading ??= api.rooms().then((list) => {
    rooms.update(list);
    updateUnreadTotal();
    startPos = maxPos(list);
    stream.recent(rooms.recent(MAX_STREAM_ROOMS));
    return list;
  }).finally(() => {
    roomsLoading = null;
    $('rooms').removeAttribute('aria-busy');
  });
  return roomsLoading;
}

function refreshRooms() {
  loadRooms().catch(() => {
    // The connection state already says the server is away.
  });
}

/** Nothing after the newest lastPos is missed by a stream that starts there. */
const maxPos = (list) => list.reduce((max, { lastPos }) => Math.max(max, lastPos ?? 0), 0);

function updateUnreadTotal() {
  const total = rooms.totalUnread;
  $('unread-total').hidden = total === 0;
  $('unread-total').textContent = total > 99 ? '99+' : String(total);
}

function roomProblem(name) {
  if (!name) return 'Type a room name.';
  if (ROOM_PATTERN.test(name)) return null;
  if (name.length > 64) return 'A room name has at most 64 characters.';
  const suggestion = name.replace(/\s+/g, '-').replace(/[^A-Za-z0-9_-]/g, '').slice(0, 64);
  return `Room names use only letters, digits, “-” and “_”${suggestion ? `: try “${suggestion}”` : ''}.`;
}

function roomFromHash() {
  const match = /^#\/(.+)$/.exec(location.hash);
  if (!match) return null;
  try {
    const name = decodeURIComponent(match[1]);
    return ROOM_PATTERN.test(name) ? name : null;
  } catch {
    return null;
  }
}

function route() {
  const name = roomFromHash();
  if (name) {
    openRoom(name);
    return;
  }
  if (location.hash.length > 2) toast('That link does not name a room (letters, digits, “-” and “_” only).');
  const last = remembered.room();
  const fallback = last && ROOM_PATTERN.test(last) ? last : DEFAULT_ROOM;
  history.replaceState(null, '', `#/${fallback}`);
  openRoom(fallback);
}

function setDrawer(open) {
  document.body.classList.toggle('drawer-open', open);
  roomsToggle.setAttribute('aria-expanded', String(open));
  $('backdrop').hidden = !open;
  if (open) $('rooms').querySelector('a')?.focus();
}

function toast(text) {
  const element = $('toast');
  element.textContent = text;
  element.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { element.hidden = true; }, 5000);
}

// --- Events ----------------------------------------------------------------------------------

$('name-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const name = $('name-input').value.trim();
  const problem = nameProblem(name);
  $('name-error').textContent = problem ?? '';
  $('name-error').hidden = !problem;
  if (problem) return;
  remembered.setName(name);
  setMe(name);
  dialog.close();
});
$('name-cancel').addEventListener('click', () => dialog.close());
dialog.addEventListener('close', () => composer.focus());
$('change-name').addEventListener('click', askName);

$('new-room').addEventListener('submit', (event) => {
  event.preventDefault();
  const field = $('new-room-name');
  const name = field.value.trim();
  const problem = roomProblem(name);
  field.setAttribute('aria-invalid', String(Boolean(problem)));
  $('new-room-hint').textContent = problem ?? 'Letters, digits, “-” and “_”; no spaces.';
  $('new-room-hint').classList.toggle('error', Boolean(problem));
  if (problem) {
    field.focus();
    return;
  }
  field.value = '';
  location.hash = `#/${name}`;
});

roomsToggle.addEventListener('click', () => setDrawer(!document.body.classList.contains('drawer-open')));
$('backdrop').addEventListener('click', () => setDrawer(false));
document.addEventListener('keydown', (event) => {
  if (event.key === 'Escape' && document.body.classList.contains('drawer-open')) {
    setDrawer(false);
    roomsToggle.focus();
  }
});

$('load-older').addEventListener('click', loadOlder);
new IntersectionObserver((entries) => {
  if (entries.some((entry) => entry.isIntersecting)) loadOlder();
}, { root: scroller, rootMargin: '200px 0px 0px 0px' }).observe($('older'));
// Whether the reader is at the newest message, as of their last scroll: when the list's box shrinks
// (the message box grows with its text, a phone's keyboard opens) no scroll happens, and the newest
// messages would slide out of view below.
let atBottom = true;
new ResizeObserver(() => {
  if (atBottom) scroller.scrollTop = scroller.scrollHeight;
}).observe(scroller);
scroller.addEventListener('scroll', () => {
  atBottom = nearBottom();
  if (newBelow && nearBottom()) {
    newBelow = 0;
    showJump();
  }
});
$('jump').addEventListener('click', scrollToBottom);

$('share').addEventListener('click', async () => {
  try {
    await navigator.clipboard.writeText(location.href);
    toast('Link to this room copied.');
  } catch {
    toast(`Share this address: ${location.href}`);
  }
});

function reconnectNow() {
  stream.reconnectNow();
  roomMessages?.reconnectNow();
}

window.addEventListener('hashchange', route);
window.addEventListener('online', reconnectNow);
// Rooms created elsewhere are not on the stream: look for them when the reader comes back.
window.addEventListener('focus', refreshRooms);
document.addEventListener('visibilitychange', () => {
  if (document.hidden) return;
  newWhileHidden = 0;
  updateTitle();
  reconnectNow();
  refreshRooms();
});
// Another tab read a room: its unread count here goes down too.
window.addEventListener('storage', () => {
  rooms.render();
  updateUnreadTotal();
});

// --- Start -----------------------------------------------------------------------------------

setMe(remembered.name());
stream.start();
route();
refreshRooms();
if (!me) askName();
