// The page: load the texts, resume this tab's session, then sign-in, MFA enrolment, this
// device's key, and the screens. Everything goes through the public API.
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { html } from "./html.js";
import { loadLanguage, t } from "./i18n.js";
import { ed25519Supported } from "./keys.js";
import { session } from "./session.js";
import { SignIn, MfaEnrolment } from "./signin.js";
import { DeviceSetup } from "./devices.js";
import { Shell } from "./shell.js";
import { live } from "./live.js";
import { app } from "./state.js";

function useSession() {
  const [, setTick] = useState(0);
  useEffect(() => session.onChange(() => setTick((n) => n + 1)), []);
  return session;
}

function Unsupported() {
  return html`<main id="main" class="centered">
    <h1>${t("unsupported.title")}</h1>
    <p>${t("unsupported.text")}</p>
  </main>`;
}

function App({ supported }) {
  const current = useSession();
  const [device, setDevice] = useState(null);
  useEffect(() => {
    if (!current.signedIn) {
      live.stop();
      setDevice(null);
      app.set({ groups: [], groupsLoaded: false, timelines: {}, alerts: [], flash: [] });
    }
  }, [current.signedIn]);
  if (!supported) return html`<${Unsupported} />`;
  if (!current.signedIn) return html`<${SignIn} ended=${current.endedReason} />`;
  if (current.me.mfa_enrolment_required) return html`<${MfaEnrolment} required=${true} />`;
  if (!device) return html`<${DeviceSetup} me=${current.me} onReady=${setDevice} />`;
  return html`<${Shell} me=${current.me} device=${device} />`;
}

async function boot() {
  const root = document.getElementById("app");
  const base = root.dataset.base;
  await loadLanguage(base);
  const supported = await ed25519Supported();
  if (supported) await session.resume();
  root.textContent = "";
  render(html`<${App} supported=${supported} />`, root);
}

boot();
