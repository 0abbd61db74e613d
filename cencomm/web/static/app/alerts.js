// Alerts: the inbox, one alert with its acknowledgement, the composer and the live board.
// (First version: placeholders wired into the page; the alert screens come next.)
import { html } from "./html.js";
import { t } from "./i18n.js";

export function startAlerts() {
  return () => {};
}

export function FlashBanner() {
  return null;
}

export function AlertsScreen() {
  return html`<section class="screen"><h1>${t("nav.alerts")}</h1></section>`;
}

export function AlertScreen() {
  return html`<section class="screen"><h1>${t("nav.alerts")}</h1></section>`;
}

export function NewAlertScreen() {
  return html`<section class="screen"><h1>${t("nav.alerts")}</h1></section>`;
}
