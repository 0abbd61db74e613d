// Alerts in the page's store: the inbox (`app.alerts`, newest first, each marked `unread` when
// this browser has not opened it), each opened alert with its board (`app.alertDetails`), and the
// live frames that change them (`alert`, `alert.ack`, `alert.overdue`).
import { get, query } from "./api.js";
import { decodePayload } from "./jws.js";
import { live } from "./live.js";
import { app } from "./state.js";
import { armSound, disarmSound, playTone } from "./alert_sound.js";

const PAGE = 50;
const MAX_REMEMBERED = 2000;
export const OUTCOMES = ["received", "controlled", "nil_find", "seized"];

let current = null; // {me, opened: Set of alert ids opened in this browser}

const openedKey = (userId) => `cencomm.alerts.opened.${userId}`;

function loadOpened(userId) {
  try {
    return new Set(JSON.parse(localStorage.getItem(openedKey(userId)) || "[]"));
  } catch {
    return new Set();
  }
}

function saveOpened() {
  const ids = [...current.opened].slice(-MAX_REMEMBERED);
  try {
    localStorage.setItem(openedKey(current.me.id), JSON.stringify(ids));
  } catch {
    // Storage full or refused: the unread marks last for this page only.
  }
}

export const isSent = (alert) => Boolean(current && alert.sender.id === current.me.id);

function decorate(alert) {
  const unread = Boolean(current) && !isSent(alert) && !current.opened.has(alert.id);
  return { ...alert, unread };
}

// What was signed: the JWS payload (the server's `content` only when the JWS cannot be read).
export function signedPayload(alert) {
  return decodePayload(alert.jws) || alert.content || { body: {} };
}

export const alertTitle = (alert) => signedPayload(alert).body?.title || "";

export function isExpired(alert, now = Date.now()) {
  return Boolean(alert.expires_at) && Date.parse(alert.expires_at) <= now;
}

// Overdue for me: a response was asked by a time that has passed, and I have not answered.
export function isOverdue(alert, now = Date.now()) {
  return (
    !isSent(alert) &&
    Boolean(alert.respond_by) &&
    Date.parse(alert.respond_by) <= now &&
    !alert.my_ack
  );
}

// Flash alerts that still demand attention: not opened here, not answered, not expired.
export function pendingFlash(state) {
  return state.alerts.filter(
    (a) => a.unread && a.priority === "flash" && !a.my_ack && !isExpired(a),
  );
}

function byNewest(a, b) {
  return b.created_at.localeCompare(a.created_at) || b.id.localeCompare(a.id);
}

// Merge alerts into the inbox by id; a later copy replaces an earlier one (keeping `my_ack` when
// the new copy is a live frame, which always carries null).
export function mergeAlerts(incoming, { live: fromLive = false } = {}) {
  app.set((state) => {
    const byId = new Map(state.alerts.map((a) => [a.id, a]));
    for (const alert of incoming) {
      const known = byId.get(alert.id);
      const merged = decorate({ ...known, ...alert });
      if (fromLive && known?.my_ack) merged.my_ack = known.my_ack;
      byId.set(alert.id, merged);
    }
    return { alerts: [...byId.values()].sort(byNewest) };
  });
}

export async function loadAlerts({ more = false } = {}) {
  const after = more ? app.get().alertsNext : null;
  const page = await get(`alerts${query({ limit: PAGE, after })}`);
  mergeAlerts(page.alerts);
  const state = app.get();
  app.set({ alertsLoaded: true, alertsNext: more || !state.alertsLoaded ? page.next : state.alertsNext });
  return page;
}

// One alert with its board, as GET /alerts/{id} shows it to this user.
export async function loadAlert(alertId) {
  const alert = await get(`alerts/${alertId}`);
  app.set((state) => ({ alertDetails: { ...state.alertDetails, [alertId]: alert } }));
  mergeAlerts([alert]);
  return alert;
}

export function markOpened(alertId) {
  if (!current || current.opened.has(alertId)) return;
  current.opened.add(alertId);
  saveOpened();
  app.set((state) => ({ alerts: state.alerts.map((a) => (a.id === alertId ? decorate(a) : a)) }));
}

export function markAllOpened() {
  if (!current) return;
  for (const alert of app.get().alerts) current.opened.add(alert.id);
  saveOpened();
  app.set((state) => ({ alerts: state.alerts.map(decorate) }));
}

// -- live frames --------------------------------------------------------------------------

const refreshTimers = new Map();

// The board's counts (users acknowledged, unlisted) come from the server: read the alert again
// shortly after a burst of frames, having shown each frame's change at once.
function refreshSoon(alertId) {
  clearTimeout(refreshTimers.get(alertId));
  refreshTimers.set(
    alertId,
    setTimeout(() => {
      refreshTimers.delete(alertId);
      if (app.get().alertDetails[alertId]) loadAlert(alertId).catch(() => {});
    }, 400),
  );
}

function patchBoard(alertId, change) {
  app.set((state) => {
    const alert = state.alertDetails[alertId];
    if (!alert?.ack_summary) return {};
    const summary = alert.ack_summary;
    const organizations = summary.organizations.map(change);
    return {
      alertDetails: {
        ...state.alertDetails,
        [alertId]: { ...alert, ack_summary: { ...summary, organizations } },
      },
    };
  });
}

function onAlert(frame) {
  const alert = frame.alert;
  if (!alert?.id) return;
  const isNew = !app.get().alerts.some((a) => a.id === alert.id);
  mergeAlerts([alert], { live: true });
  if (isNew && alert.priority === "flash" && !isSent(alert)) playTone();
}

function onAck(frame) {
  const rank = (outcome) => OUTCOMES.indexOf(outcome);
  patchBoard(frame.alert_id, (org) =>
    org.id !== frame.organization_id
      ? org
      : {
          ...org,
          acknowledged_at: org.acknowledged_at || frame.acknowledged_at,
          outcome: rank(frame.outcome) > rank(org.outcome) ? frame.outcome : org.outcome,
          overdue: false,
        },
  );
  if (current && frame.user_id === current.me.id) {
    // My own answer, given in another tab or browser.
    app.set((state) => ({
      alerts: state.alerts.map((a) =>
        a.id === frame.alert_id
          ? { ...a, my_ack: { ...a.my_ack, acknowledged_at: frame.acknowledged_at, outcome: frame.outcome } }
          : a,
      ),
    }));
  }
  refreshSoon(frame.alert_id);
}

function onOverdue(frame) {
  const overdue = new Set(frame.organization_ids || []);
  patchBoard(frame.alert_id, (org) => (overdue.has(org.id) ? { ...org, overdue: true } : org));
  if (app.get().alerts.some((a) => a.id === frame.alert_id)) {
    refreshSoon(frame.alert_id);
  } else {
    // Escalated to this user's RILO: the alert is now theirs to follow up.
    get(`alerts/${frame.alert_id}`)
      .then((alert) => mergeAlerts([alert]))
      .catch(() => {});
  }
}

let readyCount = 0;

function onReady() {
  // Alerts and acks sent while this page was offline are not replayed by `resume`: read the
  // newest page of the inbox and the boards this page shows again.
  readyCount += 1;
  if (readyCount === 1) return;
  loadAlerts().catch(() => {});
  for (const alertId of Object.keys(app.get().alertDetails || {})) refreshSoon(alertId);
}

// Called by the shell once signed in: load the inbox, follow live frames; returns the stop.
export function startAlerts(me) {
  current = { me, opened: loadOpened(me.id) };
  readyCount = 0;
  app.set({ alerts: [], alertsLoaded: false, alertsNext: null, alertsProblem: null, alertDetails: {}, alertsClock: Date.now() });
  loadAlerts().catch((problem) => app.set({ alertsLoaded: true, alertsProblem: problem }));
  const stops = [
    live.on("alert", onAlert),
    live.on("alert.ack", onAck),
    live.on("alert.overdue", onOverdue),
    live.on("ready", onReady),
  ];
  armSound();
  // Deadlines pass while the page is open: re-render the overdue marks every 15 seconds.
  const clock = setInterval(() => app.set({ alertsClock: Date.now() }), 15_000);
  return () => {
    for (const stop of stops) stop();
    clearInterval(clock);
    for (const timer of refreshTimers.values()) clearTimeout(timer);
    refreshTimers.clear();
    disarmSound();
    current = null;
    app.set({ alerts: [], alertsLoaded: false, alertDetails: {} });
  };
}

export const currentUser = () => current?.me || null;
