// This device's key at sign-in, and the list of the user's keys (devices) with revoke.
import { useEffect, useState } from "preact/hooks";
import { del, get } from "./api.js";
import { html } from "./html.js";
import { t } from "./i18n.js";
import { ensureDeviceKey, UnsupportedBrowser } from "./keys.js";
import { session } from "./session.js";
import { MfaEnrolment } from "./signin.js";
import { showNotice } from "./state.js";
import { ProblemView, Spinner, Time, useFocusHeading } from "./ui.js";

export function Fingerprint({ kid }) {
  // Groups of four, so two people can read it to each other.
  const groups = kid.match(/.{1,4}/g) || [];
  return html`<code class="fingerprint" data-kid=${kid}>${groups.join(" ")}</code>`;
}

export function DeviceSetup({ me, onReady }) {
  const [problem, setProblem] = useState(null);
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    let cancelled = false;
    ensureDeviceKey(me.id)
      .then(({ key, created, replaced }) => {
        if (cancelled) return;
        if (created) {
          showNotice("ok", t(replaced ? "device.replaced" : "device.created", { kid: key.kid }));
        }
        onReady(key);
      })
      .catch((error) => !cancelled && setProblem(error));
    return () => {
      cancelled = true;
    };
  }, [me.id, attempt]);
  if (!problem) return html`<main id="main" class="centered"><${Spinner} label=${t("device.preparing")} /></main>`;
  const unsupported = problem instanceof UnsupportedBrowser;
  return html`<main id="main" class="centered">
    <h1>${t(unsupported ? "unsupported.title" : "device.failed")}</h1>
    ${unsupported ? html`<p>${t("unsupported.text")}</p>` : html`<${ProblemView} problem=${problem} />`}
    <p class="actions">
      ${unsupported ? null : html`<button type="button" class="primary"
        onClick=${() => { setProblem(null); setAttempt((n) => n + 1); }}>${t("common.retry")}</button>`}
      <button type="button" onClick=${() => session.logout()}>${t("nav.signOut")}</button>
    </p>
  </main>`;
}

export function DevicesScreen({ me, device }) {
  const [keys, setKeys] = useState(null);
  const [problem, setProblem] = useState(null);
  const [confirming, setConfirming] = useState(null);
  const [mfaOpen, setMfaOpen] = useState(false);
  const heading = useFocusHeading([]);

  const load = () =>
    get(`users/${me.id}/keys`)
      .then((page) => setKeys(page.keys))
      .catch(setProblem);
  useEffect(() => {
    load();
  }, [me.id]);

  async function revoke(kid) {
    setProblem(null);
    try {
      await del(`keys/${encodeURIComponent(kid)}`);
      setConfirming(null);
      showNotice("ok", t("devices.revoked"));
      if (kid === device.kid) {
        // This browser's own key: it can no longer sign; sign in again to make a new one.
        await session.logout();
        return;
      }
      await load();
    } catch (error) {
      setProblem(error);
    }
  }

  return html`<section class="screen" aria-labelledby="devices-title">
    <h1 id="devices-title" tabindex="-1" ref=${heading}>${t("devices.title")}</h1>
    <p>${t("devices.lead")}</p>
    <p>${t("devices.thisDevice")} <${Fingerprint} kid=${device.kid} /></p>
    <${ProblemView} problem=${problem} />
    ${keys === null
      ? html`<${Spinner} />`
      : html`<table class="data devices">
          <caption class="visually-hidden">${t("devices.title")}</caption>
          <thead><tr>
            <th scope="col">${t("devices.label")}</th>
            <th scope="col">${t("devices.fingerprint")}</th>
            <th scope="col">${t("devices.created")}</th>
            <th scope="col">${t("devices.state")}</th>
            <th scope="col"><span class="visually-hidden">${t("devices.actions")}</span></th>
          </tr></thead>
          <tbody>
            ${keys.map(
              (key) => html`<tr data-kid=${key.kid}>
                <td data-label=${t("devices.label")}>${key.label || t("devices.unnamed")}
                  ${key.kid === device.kid ? html` <strong class="tag">${t("devices.this")}</strong>` : null}</td>
                <td data-label=${t("devices.fingerprint")}><${Fingerprint} kid=${key.kid} /></td>
                <td data-label=${t("devices.created")}><${Time} iso=${key.created_at} /></td>
                <td data-label=${t("devices.state")}>${key.revoked_at
                  ? html`${t("devices.revokedAt")} <${Time} iso=${key.revoked_at} />`
                  : t("devices.active")}</td>
                <td>${key.revoked_at
                  ? null
                  : confirming === key.kid
                    ? html`<span class="confirm" role="group" aria-label=${t("devices.confirmRevoke")}>
                        <button type="button" class="danger" onClick=${() => revoke(key.kid)}>
                          ${t("devices.confirmRevoke")}</button>
                        <button type="button" onClick=${() => setConfirming(null)}>${t("common.cancel")}</button>
                      </span>`
                    : html`<button type="button" onClick=${() => setConfirming(key.kid)}>
                        ${t("devices.revoke")}</button>`}</td>
              </tr>`,
            )}
          </tbody>
        </table>`}
    <h2>${t("devices.lostTitle")}</h2>
    <ol class="steps">
      <li>${t("devices.lost1")}</li>
      <li>${t("devices.lost2")}</li>
      <li>${t("devices.lost3")}</li>
    </ol>
    <h2>${t("mfa.title")}</h2>
    ${me.mfa_enabled
      ? html`<p class="ok">${t("mfa.on")}</p>`
      : mfaOpen
        ? html`<${MfaEnrolment} required=${false} onDone=${() => setMfaOpen(false)} />`
        : html`<p>${t("mfa.off")}</p>
            <button type="button" onClick=${() => setMfaOpen(true)}>${t("mfa.start")}</button>`}
  </section>`;
}
