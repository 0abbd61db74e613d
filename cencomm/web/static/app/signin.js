// Sign-in (username, password, then the TOTP code when the account has one) and TOTP enrolment
// with the otpauth QR code.
import { useState } from "preact/hooks";
import { encode } from "uqr";
import { post } from "./api.js";
import { html } from "./html.js";
import { t } from "./i18n.js";
import { session } from "./session.js";
import { ProblemView, useFocusHeading } from "./ui.js";

export function SignIn({ ended }) {
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [otp, setOtp] = useState("");
  const [needOtp, setNeedOtp] = useState(false);
  const [problem, setProblem] = useState(null);
  const [busy, setBusy] = useState(false);
  const heading = useFocusHeading([]);

  async function submit(event) {
    event.preventDefault();
    setBusy(true);
    setProblem(null);
    try {
      await session.login(username.trim(), password, needOtp ? otp.trim() : undefined);
    } catch (error) {
      if (error.slug === "mfa-required") {
        setNeedOtp(true);
      } else {
        if (error.slug === "invalid-otp") setOtp("");
        setProblem(error);
      }
    } finally {
      setBusy(false);
    }
  }

  return html`<main id="main" class="centered signin">
    <h1 tabindex="-1" ref=${heading}>${t("signin.title")}</h1>
    <p class="lead">${t("signin.lead")}</p>
    ${ended && ended !== "logged-out"
      ? html`<p class="problem" role="alert" data-slug="session-ended">${t("signin.ended")}</p>`
      : null}
    ${ended === "logged-out" ? html`<p role="status" class="ok">${t("signin.signedOut")}</p>` : null}
    <form onSubmit=${submit} class="stack" novalidate>
      <label for="username">${t("signin.username")}</label>
      <input id="username" name="username" autocomplete="username" required value=${username}
        onInput=${(e) => setUsername(e.target.value)} />
      <label for="password">${t("signin.password")}</label>
      <input id="password" name="password" type="password" autocomplete="current-password" required
        value=${password} onInput=${(e) => setPassword(e.target.value)} />
      ${needOtp
        ? html`<label for="otp">${t("signin.otp")}</label>
            <p class="hint" id="otp-hint">${t("signin.otpHint")}</p>
            <input id="otp" name="otp" inputmode="numeric" autocomplete="one-time-code"
              pattern="[0-9]{6}" maxlength="6" aria-describedby="otp-hint" required value=${otp}
              onInput=${(e) => setOtp(e.target.value)} />`
        : null}
      <${ProblemView} problem=${problem} />
      <button type="submit" class="primary" disabled=${busy}>
        ${busy ? t("signin.busy") : t("signin.submit")}
      </button>
    </form>
  </main>`;
}

// The otpauth URI as a QR code drawn with SVG rectangles (no inline markup, nothing fetched).
export function QrCode({ text, label }) {
  const { data, size } = encode(text, { ecc: "M", border: 2 });
  const cells = [];
  data.forEach((row, y) =>
    row.forEach((dark, x) => {
      if (dark) cells.push(html`<rect x=${x} y=${y} width="1" height="1" />`);
    }),
  );
  return html`<svg class="qr" viewBox="0 0 ${size} ${size}" role="img" aria-label=${label}
    shape-rendering="crispEdges">
    <rect class="qr-bg" width=${size} height=${size} />
    ${cells}
  </svg>`;
}

export function MfaEnrolment({ required, onDone }) {
  const [setup, setSetup] = useState(null);
  const [otp, setOtp] = useState("");
  const [problem, setProblem] = useState(null);
  const [busy, setBusy] = useState(false);
  const heading = useFocusHeading([]);

  async function start() {
    setProblem(null);
    setBusy(true);
    try {
      setSetup(await post("auth/otp/setup"));
    } catch (error) {
      setProblem(error);
    } finally {
      setBusy(false);
    }
  }

  async function confirm(event) {
    event.preventDefault();
    setProblem(null);
    setBusy(true);
    try {
      await post("auth/otp/enable", { otp: otp.trim() });
      await session.loadMe();
      onDone?.();
    } catch (error) {
      setProblem(error);
    } finally {
      setBusy(false);
    }
  }

  const Wrapper = required ? "main" : "section";
  const Heading = required ? "h1" : "h2";
  return html`<${Wrapper} id=${required ? "main" : undefined} class=${required ? "centered" : "panel"}
    aria-labelledby="mfa-title">
    <${Heading} id="mfa-title" tabindex="-1" ref=${heading}>${t("mfa.title")}</${Heading}>
    <p>${required ? t("mfa.required") : t("mfa.optional")}</p>
    ${setup
      ? html`<ol class="steps">
            <li>${t("mfa.scan")}</li>
            <li>${t("mfa.enter")}</li>
          </ol>
          <${QrCode} text=${setup.otpauth_uri} label=${t("mfa.qrLabel")} />
          <p>${t("mfa.manual")} <code class="secret" data-testid="otp-secret">${setup.secret}</code></p>
          <form onSubmit=${confirm} class="stack">
            <label for="mfa-otp">${t("signin.otp")}</label>
            <input id="mfa-otp" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}"
              maxlength="6" required value=${otp} onInput=${(e) => setOtp(e.target.value)} />
            <${ProblemView} problem=${problem} />
            <button type="submit" class="primary" disabled=${busy}>${t("mfa.confirm")}</button>
          </form>`
      : html`<${ProblemView} problem=${problem} />
          <button type="button" class="primary" onClick=${start} disabled=${busy}>
            ${t("mfa.start")}
          </button>`}
    ${required
      ? html`<p><button type="button" class="link" onClick=${() => session.logout()}>
          ${t("nav.signOut")}</button></p>`
      : null}
  </${Wrapper}>`;
}
