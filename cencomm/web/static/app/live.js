// The live connection (GET /api/v1/ws): auth frame, `resume` from the last seq this page knows of
// each group (so nothing is missed or repeated across reconnects), reconnect with backoff, and
// frames handed to whoever listens (`live.on("alert", …)`).
import { get } from "./api.js";
import { session } from "./session.js";
import { app, knownSeq, loadGroups, mergeMessages, updateMessage } from "./state.js";

const MAX_BACKOFF_MS = 15_000;

class Live {
  constructor() {
    this.socket = null;
    this.stopped = true;
    this.attempt = 0;
    this.timer = null;
    this.listeners = new Map();
  }

  on(type, listener) {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type).add(listener);
    return () => this.listeners.get(type).delete(listener);
  }

  emit(type, frame) {
    for (const listener of this.listeners.get(type) || []) listener(frame);
  }

  start() {
    this.stopped = false;
    this.attempt = 0;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    const socket = this.socket;
    this.socket = null;
    if (socket && socket.readyState <= WebSocket.OPEN) socket.close(1000);
  }

  connect() {
    clearTimeout(this.timer);
    if (this.stopped) return;
    app.set({ live: this.attempt === 0 ? "connecting" : "offline" });
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}/api/v1/ws`);
    this.socket = socket;
    socket.onopen = async () => {
      try {
        socket.send(JSON.stringify({ type: "auth", token: await session.accessToken() }));
      } catch {
        socket.close(1000);
      }
    };
    socket.onmessage = (event) => {
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      this.handle(socket, frame);
    };
    socket.onclose = (event) => this.closed(socket, event.code);
  }

  closed(socket, code) {
    if (socket !== this.socket || this.stopped) return;
    this.socket = null;
    app.set({ live: "offline" });
    if (code === 4401) {
      // The token expired or the session ended: a refresh tells which (a 401 ends the session
      // and the page returns to sign-in). A refresh that fails otherwise (the server is
      // unreachable) is no answer: try again later.
      session
        .refreshNow()
        .then(() => this.schedule(0))
        .catch(() => {
          if (session.signedIn) this.schedule(this.backoff());
        });
      return;
    }
    // 4409: the role changed; reconnect at once and let the new role decide what comes.
    this.schedule(code === 4409 ? 0 : this.backoff());
  }

  backoff() {
    this.attempt += 1;
    const ceiling = Math.min(MAX_BACKOFF_MS, 500 * 2 ** this.attempt);
    return ceiling / 2 + Math.random() * (ceiling / 2);
  }

  schedule(delay) {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), delay);
  }

  // Reconnect now (the user pressed "retry", or the browser came back online).
  retry() {
    if (this.stopped || this.socket) return;
    this.attempt = 0;
    this.connect();
  }

  handle(socket, frame) {
    switch (frame.type) {
      case "ready": {
        this.attempt = 0;
        // From the newest message this page holds; only for a group whose timeline is not
        // loaded, the list's last_seq (which may run ahead of the frames received so far).
        const { groups: list, timelines } = app.get();
        const groups = {};
        for (const group of list) {
          const timeline = timelines[group.id];
          groups[group.id] = timeline?.loaded ? timeline.messages.at(-1)?.seq || 0 : knownSeq(group.id);
        }
        socket.send(JSON.stringify({ type: "resume", groups }));
        app.set({ live: "online" });
        break;
      }
      case "message":
        mergeMessages(frame.group_id, [frame.message]);
        break;
      case "message.hidden":
        this.refreshMessage(frame.message_id);
        break;
      case "message.countersigned":
        // An organisation sealed a message: its badge appears (and is verified) at once.
        updateMessage(frame.group_id, frame.message_id, (message) => ({
          ...message,
          countersignatures: [
            ...(message.countersignatures || []).filter(
              (seal) => seal.kid !== frame.countersignature.kid,
            ),
            frame.countersignature,
          ],
        }));
        break;
      case "membership":
        loadGroups().catch(() => {});
        break;
      default:
        break;
    }
    this.emit(frame.type, frame);
  }

  async refreshMessage(messageId) {
    try {
      const message = await get(`messages/${messageId}`);
      mergeMessages(message.group_id, [message]);
    } catch {
      // Gone from view (404): nothing to update.
    }
  }
}

export const live = new Live();

addEventListener("online", () => live.retry());
