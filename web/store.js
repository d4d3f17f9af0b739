// What the page remembers on this device: the display name, the last room, how far each room was read.
// Read afresh on every access, so two tabs of one browser do not overwrite each other with stale copies.

const KEY = 'pgchat';

function load() {
  try {
    return JSON.parse(localStorage.getItem(KEY)) ?? {};
  } catch {
    return {};
  }
}

function update(change) {
  const state = load();
  change(state);
  try {
    localStorage.setItem(KEY, JSON.stringify(state));
  } catch {
    // Storage refused (private mode, quota): the page still works, it just forgets.
  }
}

export const remembered = {
  name: () => load().name ?? '',
  setName: (name) => update((state) => { state.name = name; }),
  room: () => load().room,
  setRoom: (room) => update((state) => { state.room = room; }),
  readUpTo: (room) => load().read?.[room],
  markRead: (room, seq) => update((state) => {
    state.read ??= {};
    state.read[room] = Math.max(seq, state.read[room] ?? 0);
  }),
};
