// The page's shared state: the caller's groups, each group's loaded timeline, what this user has
// read (kept in this browser), the live connection's status and the alerts.
import { get, query } from "./api.js";
import { createStore } from "./store.js";

export const app = createStore({
  groups: [],
  groupsLoaded: false,
  timelines: {}, // groupId → {messages: [ascending seq], complete: no older messages exist}
  live: "connecting", // connecting | online | offline
  alerts: [],
  alertsLoaded: false,
  flash: [], // flash alerts not yet opened
  notice: null, // {kind, text}: a transient message at the top of the page
});

const readKey = (userId) => `cencomm.read.${userId}`;

export function lastRead(userId) {
  try {
    return JSON.parse(localStorage.getItem(readKey(userId)) || "{}");
  } catch {
    return {};
  }
}

export function markRead(userId, groupId, seq) {
  const read = lastRead(userId);
  if ((read[groupId] || 0) >= seq) return;
  read[groupId] = seq;
  localStorage.setItem(readKey(userId), JSON.stringify(read));
  app.set({ groups: [...app.get().groups] }); // unread counts change
}

export async function loadGroups() {
  const groups = [];
  let after = null;
  do {
    const page = await get(`groups${query({ limit: 500, after })}`);
    groups.push(...page.groups);
    after = page.next;
  } while (after);
  app.set({ groups, groupsLoaded: true });
  return groups;
}

export function groupById(id) {
  return app.get().groups.find((g) => g.id === id) || null;
}

// The newest seq this page knows of in a group: its loaded timeline's or the group list's.
export function knownSeq(groupId) {
  const timeline = app.get().timelines[groupId];
  const loaded = timeline?.messages.length ? timeline.messages.at(-1).seq : 0;
  return Math.max(loaded, groupById(groupId)?.last_seq || 0);
}

export function unreadCount(userId, group) {
  const read = lastRead(userId)[group.id] || 0;
  return Math.max(0, knownSeq(group.id) - read);
}

// Merge messages into a group's timeline by seq (a repeat replaces: hide/unhide updates).
// `loaded`: the newest page was fetched (live frames alone do not make a timeline loaded).
export function mergeMessages(groupId, incoming, { complete, loaded } = {}) {
  app.set((state) => {
    const current = state.timelines[groupId] || { messages: [], complete: false, loaded: false };
    const bySeq = new Map(current.messages.map((m) => [m.seq, m]));
    for (const message of incoming) bySeq.set(message.seq, message);
    const messages = [...bySeq.values()].sort((a, b) => a.seq - b.seq);
    const groups = state.groups.map((g) =>
      g.id === groupId && messages.length && messages.at(-1).seq > (g.last_seq || 0)
        ? { ...g, last_seq: messages.at(-1).seq }
        : g,
    );
    const timeline = {
      messages,
      complete: complete ?? current.complete,
      loaded: loaded ?? current.loaded,
    };
    return { timelines: { ...state.timelines, [groupId]: timeline }, groups };
  });
}

export function updateMessage(groupId, messageId, change) {
  app.set((state) => {
    const timeline = state.timelines[groupId];
    if (!timeline) return {};
    const messages = timeline.messages.map((m) => (m.id === messageId ? change(m) : m));
    return { timelines: { ...state.timelines, [groupId]: { ...timeline, messages } } };
  });
}

export function showNotice(kind, text) {
  app.set({ notice: { kind, text, at: Date.now() } });
}
