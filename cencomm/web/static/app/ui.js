// Small shared pieces: problems with every field error, TLP badges, the verified badge, times.
import { useLayoutEffect, useRef } from "preact/hooks";
import { html } from "./html.js";
import { formatTime, problemTitle, t } from "./i18n.js";

export const TLP_CODES = ["TLP:CLEAR", "TLP:GREEN", "TLP:AMBER", "TLP:AMBER+STRICT", "TLP:RED"];

const tlpName = (code) => (code || "").replace("TLP:", "").replace("+", "-").toLowerCase();

// The badge's class (black label, TLP colour text) and, apart, the class of a whole item marked
// with that code (its colour bar): an item must not take the badge's look.
export function tlpClass(code) {
  return `tlp tlp-${tlpName(code)}`;
}

export function handlingClass(code) {
  return `hc-${tlpName(code)}`;
}

export function TlpBadge({ code }) {
  return html`<span class=${tlpClass(code)} title=${t(`tlp.${code}.help`)}>${code}</span>`;
}

// verification: undefined (checking), or {ok, reason}
export function VerifiedBadge({ verification }) {
  if (!verification) return html`<span class="badge badge-pending">${t("verify.checking")}</span>`;
  if (verification.ok) {
    return html`<span class="badge badge-verified" data-verified="true" title=${t("verify.ok.help")}
      >✓ ${t("verify.ok")}</span
    >`;
  }
  return html`<span class="badge badge-unverified" data-verified="false"
    title=${t(`verify.reason.${verification.reason || "signature"}`)}
    >✗ ${t("verify.bad")}</span
  >`;
}

export function Time({ iso }) {
  return html`<time datetime=${iso}>${formatTime(iso)}</time>`;
}

// A problem from the API: its title, detail and every field error, announced to screen readers.
export function ProblemView({ problem, fieldLabels = {} }) {
  if (!problem) return null;
  const title = problem.slug === "network" ? t("problem.network") : problemTitle(problem);
  return html`<div class="problem" role="alert" data-slug=${problem.slug}>
    <strong>${title}</strong>
    ${problem.detail && problem.slug !== "network" ? html`<span>${t("common.colon")}${problem.detail}</span>` : null}
    ${problem.errors.length
      ? html`<ul class="field-errors">
          ${problem.errors.map(
            (e) => html`<li data-field=${e.field}>
              <code>${fieldLabels[e.field] || e.field}</code>${t("common.colon")}${e.message}
            </li>`,
          )}
        </ul>`
      : null}
  </div>`;
}

// Focus moves only in answer to something the person did (a key, a click or tap, a link or the
// back button): on a fresh page load it stays at the top, so Tab reaches the skip link first.
let acted = false;
for (const type of ["keydown", "pointerdown", "hashchange"]) {
  addEventListener(type, () => { acted = true; }, { capture: true, passive: true });
}

// Move focus to a screen's heading when it opens, so keyboard and screen-reader users land there.
// A layout effect: it runs as the screen is put in the page, so a key pressed once the screen
// shows (the first Tab of a fresh load) cannot count as the reason to move focus afterwards.
export function useFocusHeading(deps) {
  const ref = useRef(null);
  useLayoutEffect(() => {
    if (acted) ref.current?.focus({ preventScroll: true });
  }, deps);
  return ref;
}

export function Spinner({ label }) {
  return html`<p class="loading" role="status">${label || t("common.loading")}</p>`;
}
