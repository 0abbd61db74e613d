// The signed-in session: tokens, the caller (`/me`), silent refresh before the access token
// expires, and the end of a session (logout, revocation, a disabled account) announced to the page.
//
// The refresh token is kept in sessionStorage (this tab only, gone when it closes) so a reload
// does not sign the user out; the access token only in memory.
import { API, Problem } from "./api.js";

const REFRESH_KEY = "cencomm.refresh";

class Session {
  constructor() {
    this.access = null;
    this.expiresAt = 0;
    this.me = null;
    this.refreshing = null;
    this.timer = null;
    this.listeners = new Set();
    this.endedReason = null;
  }

  get signedIn() {
    return this.me !== null;
  }

  onChange(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  notify() {
    for (const listener of this.listeners) listener(this);
  }

  async login(username, password, otp) {
    const body = { username, password };
    if (otp) body.otp = otp;
    // The device token travels in its HttpOnly cookie (same origin), so other people's failed
    // attempts on this username never lock this browser out.
    const response = await fetch(`${API}/auth/login`, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
    });
    const data = await response.json().catch(() => null);
    if (!response.ok) {
      const problem = new Problem(response.status, data);
      problem.retryAfter = response.headers.get("Retry-After");
      throw problem;
    }
    this.endedReason = null;
    this.store(data);
    await this.loadMe();
  }

  store(tokens) {
    this.access = tokens.access_token;
    this.expiresAt = Date.now() + tokens.expires_in * 1000;
    sessionStorage.setItem(REFRESH_KEY, tokens.refresh_token);
    clearTimeout(this.timer);
    // Refresh a minute before expiry (or half-way for very short tokens).
    const lead = Math.min(60_000, (tokens.expires_in * 1000) / 2);
    this.timer = setTimeout(() => this.refreshNow().catch(() => {}), tokens.expires_in * 1000 - lead);
  }

  async loadMe() {
    const response = await fetch(`${API}/me`, {
      headers: { Authorization: `Bearer ${this.access}`, Accept: "application/json" },
    });
    if (!response.ok) throw new Problem(response.status, await response.json().catch(() => null));
    this.me = await response.json();
    this.notify();
  }

  // On page load: resume the tab's session from its refresh token, if it has one.
  async resume() {
    if (!sessionStorage.getItem(REFRESH_KEY)) return false;
    try {
      await this.refreshNow();
      await this.loadMe();
      return true;
    } catch {
      this.clear();
      return false;
    }
  }

  async accessToken() {
    if (!this.access) throw this.endedProblem();
    if (Date.now() > this.expiresAt - 5_000) await this.refreshNow();
    return this.access;
  }

  // One refresh at a time: a refresh token works once, and presenting it twice would revoke the
  // whole session.
  refreshNow() {
    this.refreshing ??= this.doRefresh().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  async doRefresh() {
    const refreshToken = sessionStorage.getItem(REFRESH_KEY);
    if (!refreshToken) throw this.end("ended");
    let response;
    try {
      response = await fetch(`${API}/auth/refresh`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ refresh_token: refreshToken }),
      });
    } catch (error) {
      const offline = new Problem(0, { title: "offline", detail: String(error) });
      offline.slug = "network";
      throw offline;
    }
    if (response.status === 401) throw this.end("ended");
    if (!response.ok) throw new Problem(response.status, await response.json().catch(() => null));
    this.store(await response.json());
  }

  endedProblem() {
    const problem = new Problem(401, { title: "session ended" });
    problem.slug = "session-ended";
    return problem;
  }

  async logout() {
    try {
      if (this.access) {
        await fetch(`${API}/auth/logout`, {
          method: "POST",
          headers: { Authorization: `Bearer ${this.access}` },
        });
      }
    } finally {
      this.end("logged-out");
    }
  }

  clear() {
    clearTimeout(this.timer);
    sessionStorage.removeItem(REFRESH_KEY);
    this.access = null;
    this.expiresAt = 0;
    this.me = null;
  }

  // The session is over: forget it and tell the page, which shows sign-in with the reason.
  end(reason) {
    const wasSignedIn = this.me !== null;
    this.clear();
    if (wasSignedIn || reason === "logged-out") {
      this.endedReason = reason;
      this.notify();
    }
    return this.endedProblem();
  }
}

export const session = new Session();
