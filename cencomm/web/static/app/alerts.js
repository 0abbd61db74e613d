// Alerts: the inbox (unread and overdue marks), the flash banner, one alert with its verified
// content, the acknowledgement buttons and, for those who may read it, the live board. The
// composer is in alert_compose.js, the board in alert_board.js, the store in alert_state.js.
import { useEffect, useRef, useState } from "preact/hooks";
import { get, post, query } from "./api.js";
import { html } from "./html.js";
import { countryName, formatDate, t } from "./i18n.js";
import { verifyEnvelope } from "./jws.js";
import { app, groupById, knownSeq, showNotice } from "./state.js";
import { useStore } from "./store.js";
import { AttachmentRefs } from "./attachments.js";
import { ProblemView, Spinner, Time, TlpBadge, VerifiedBadge, useFocusHeading } from "./ui.js";
import { AckBoard, OutcomeTag } from "./alert_board.js";
import { canSendAlerts } from "./alert_compose.js";
import { setSound, soundOn } from "./alert_sound.js";
import {
  OUTCOMES,
  alertTitle,
  isExpired,
  isOverdue,
  isSent,
  loadAlert,
  loadAlerts,
  markAllOpened,
  markOpened,
  pendingFlash,
  signedPayload,
} from "./alert_state.js";

export { startAlerts } from "./alert_state.js";
export { NewAlertScreen } from "./alert_compose.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

// -- verification -------------------------------------------------------------------------

const verifications = new Map();

function useAlertVerification(alert) {
  const cacheKey = alert ? `${alert.id}:${alert.jws}` : "";
  const [result, setResult] = useState(() => verifications.get(cacheKey)?.result);
  useEffect(() => {
    if (!alert) return undefined;
    let entry = verifications.get(cacheKey);
    if (!entry) {
      entry = { promise: verifyEnvelope(alert.jws, alert.sender.id) };
      entry.promise.then((value) => {
        entry.result = value;
      });
      verifications.set(cacheKey, entry);
    }
    let mounted = true;
    setResult(entry.result);
    entry.promise.then((value) => mounted && setResult(value));
    return () => {
      mounted = false;
    };
  }, [cacheKey]);
  return result;
}

// -- small pieces ---------------------------------------------------------------------------

function PriorityBadge({ priority }) {
  return html`<span class=${`priority priority-${priority}`} data-priority=${priority}>${t(`priority.${priority}`)}</span>`;
}

const senderLine = (alert) =>
  alert.sender.organization_name
    ? `${alert.sender.display_name} · ${alert.sender.organization_name}`
    : alert.sender.display_name;

// The time for overdue and expired marks: re-rendered by the store's clock tick.
function useClock() {
  useStore(app, (s) => s.alertsClock);
  return Date.now();
}

// -- the flash banner ------------------------------------------------------------------------

export function FlashBanner() {
  const flash = useStore(app, pendingFlash);
  useClock();
  if (!flash.length) return null;
  const [newest] = flash;
  return html`<div class="flash-banner" role="alert" data-alert=${newest.id}>
    <strong class="flash-label">${t("flash.label")}</strong>
    <span class="flash-title">${alertTitle(newest)}</span>
    <span class="flash-from">${t("flash.from", { sender: senderLine(newest) })}</span>
    <a class="flash-open" href=${`#/alerts/${newest.id}`}>${t("flash.open")}</a>
    ${flash.length > 1
      ? html`<a href="#/alerts">${t("flash.more", { count: flash.length - 1 })}</a>`
      : null}
  </div>`;
}

// -- the inbox -------------------------------------------------------------------------------

const FILTERS = ["all", "unread", "received", "sent"];

function matches(filter, alert) {
  if (filter === "unread") return alert.unread;
  if (filter === "received") return !isSent(alert);
  if (filter === "sent") return isSent(alert);
  return true;
}

function AlertItem({ alert, now }) {
  const verification = useAlertVerification(alert);
  const sent = isSent(alert);
  const overdue = isOverdue(alert, now);
  const expired = isExpired(alert, now);
  const classes = ["alert-item", `priority-${alert.priority}`];
  if (alert.unread) classes.push("unread");
  return html`<li class=${classes.join(" ")} data-id=${alert.id} data-tlp=${alert.hc} data-unread=${alert.unread ? "true" : "false"}
    data-overdue=${overdue ? "true" : "false"}>
    <a class="alert-link" href=${`#/alerts/${alert.id}`}>
      ${alert.unread ? html`<span class="tag tag-unread">${t("alerts.unread")}</span> ` : null}
      <span class="alert-title">${alertTitle(alert)}</span>
    </a>
    <div class="alert-meta">
      <${PriorityBadge} priority=${alert.priority} />
      <${TlpBadge} code=${alert.hc} />
      <${VerifiedBadge} verification=${verification} />
      <span class="sender">${sent ? t("alerts.sentByMe") : senderLine(alert)}</span>
      <${Time} iso=${alert.created_at} />
      ${overdue ? html`<span class="tag tag-overdue">${t("alerts.overdue")}</span>` : null}
      ${alert.my_ack ? html`<${OutcomeTag} outcome=${alert.my_ack.outcome} />` : null}
      ${!sent && !alert.my_ack && alert.ack_required && !overdue
        ? html`<span class="tag">${t("alerts.ackRequired")}</span>`
        : null}
      ${expired ? html`<span class="tag">${t("alerts.expired")}</span>` : null}
    </div>
  </li>`;
}

function SoundSwitch() {
  const [on, setOn] = useState(soundOn);
  return html`<label class="switch">
    <input type="checkbox" name="sound" checked=${on}
      onChange=${(e) => {
        setSound(e.target.checked);
        setOn(e.target.checked);
      }} />
    ${t("alerts.sound")}
  </label>`;
}

export function AlertsScreen({ me }) {
  const alerts = useStore(app, (s) => s.alerts);
  const loaded = useStore(app, (s) => s.alertsLoaded);
  const next = useStore(app, (s) => s.alertsNext);
  const loadProblem = useStore(app, (s) => s.alertsProblem);
  const groups = useStore(app, (s) => s.groups);
  const now = useClock();
  const [filter, setFilter] = useState("all");
  const [problem, setProblem] = useState(null);
  const [busy, setBusy] = useState(false);
  const heading = useFocusHeading([]);
  const shown = alerts.filter((a) => matches(filter, a));
  const unread = alerts.filter((a) => a.unread).length;

  async function more() {
    setBusy(true);
    setProblem(null);
    try {
      await loadAlerts({ more: true });
    } catch (error) {
      setProblem(error);
    } finally {
      setBusy(false);
    }
  }

  return html`<section class="screen alerts-screen" aria-labelledby="alerts-title">
    <header class="screen-head">
      <h1 id="alerts-title" tabindex="-1" ref=${heading}>${t("alerts.title")}</h1>
      ${canSendAlerts(me, groups)
        ? html`<a class="button primary" href="#/alerts/new">${t("alerts.new")}</a>`
        : null}
    </header>
    <div class="alerts-tools">
      <fieldset class="filters">
        <legend class="visually-hidden">${t("alerts.filter")}</legend>
        ${FILTERS.map(
          (name) => html`<label class="filter">
            <input type="radio" name="alert-filter" value=${name} checked=${filter === name}
              onChange=${() => setFilter(name)} />
            ${t(`alerts.filter.${name}`)}</label>`,
        )}
      </fieldset>
      <${SoundSwitch} />
      ${unread
        ? html`<button type="button" onClick=${markAllOpened}>${t("alerts.markAllRead")}</button>`
        : null}
    </div>
    <${ProblemView} problem=${loadProblem || problem} />
    ${!loaded
      ? html`<${Spinner} />`
      : shown.length === 0
        ? html`<p class="empty">${t(alerts.length ? "alerts.noneFiltered" : "alerts.none")}</p>`
        : html`<ul class="alert-list" aria-live="polite" aria-relevant="additions">
            ${shown.map((alert) => html`<${AlertItem} key=${alert.id} alert=${alert} now=${now} />`)}
          </ul>`}
    ${next
      ? html`<p><button type="button" onClick=${more} disabled=${busy}>
          ${busy ? t("common.loading") : t("alerts.older")}</button></p>`
      : null}
  </section>`;
}

// -- one alert -------------------------------------------------------------------------------

function Targets({ to }) {
  if (!to) return null;
  const parts = [];
  if (to.all) parts.push(t("alert.to.all"));
  for (const id of to.groups || []) {
    const group = groupById(id);
    parts.push(group ? `${group.code} ${group.name}` : t("alert.to.group"));
  }
  if (to.organizations?.length) parts.push(t("alert.to.organizations", { count: to.organizations.length }));
  for (const region of to.regions || []) parts.push(t(`region.${region}`));
  return html`<p class="targets"><span class="label">${t("alert.to")}</span> ${parts.join(" · ")}</p>`;
}

// The caller's own recent seizure reports in the alert's target groups they belong to (an alert
// to organisations or regions only: in their active groups).
async function mySeizureReports(me, to) {
  const reports = [];
  let groups = (to?.groups || []).map(groupById).filter(Boolean);
  if (!groups.length) groups = app.get().groups.filter((g) => g.status === "active").slice(0, 10);
  for (const group of groups) {
    const groupId = group.id;
    const newest = knownSeq(groupId);
    if (!newest) continue;
    const page = await get(`groups/${groupId}/messages${query({ before: newest + 1, limit: 200 })}`);
    for (const message of page.messages) {
      if (message.typ === "seizure" && message.sender.id === me.id && !message.hidden) {
        reports.push({ message, group });
      }
    }
  }
  return reports.sort((a, b) => b.message.created_at.localeCompare(a.message.created_at));
}

function reportLabel({ message, group }) {
  const body = message.content?.body || {};
  return t("ack.reportOption", {
    group: group.code,
    seq: message.seq,
    date: formatDate(body.occurred_on || message.created_at),
    country: body.country ? countryName(body.country) : "",
    items: (body.items || []).length,
  });
}

function SeizureLink({ me, alert, value, onChange, invalid }) {
  const [reports, setReports] = useState(null);
  const [problem, setProblem] = useState(null);
  const [mode, setMode] = useState("list");
  const box = useRef(null);
  useEffect(() => box.current?.focus(), []); // opened by "Seized…": keyboard users land here
  useEffect(() => {
    mySeizureReports(me, signedPayload(alert).to)
      .then((found) => {
        setReports(found);
        if (!found.length) setMode("paste");
      })
      .catch(setProblem);
  }, [alert.id]);
  return html`<fieldset class="seizure-link" ref=${box} tabindex="-1">
    <legend>${t("ack.link")}</legend>
    <p class="hint">${t("ack.linkHint")}</p>
    <${ProblemView} problem=${problem} />
    ${reports === null && !problem ? html`<${Spinner} />` : null}
    ${reports?.length
      ? html`<label class="choice"><input type="radio" name="link-mode" checked=${mode === "list"}
            onChange=${() => { setMode("list"); onChange(""); }} /> ${t("ack.linkFromList")}</label>
          ${mode === "list"
            ? html`<label for="ack-report">${t("ack.report")}</label>
                <select id="ack-report" value=${value} onChange=${(e) => onChange(e.target.value)}>
                  <option value="">${t("ack.noReport")}</option>
                  ${reports.map((r) => html`<option value=${r.message.id}>${reportLabel(r)}</option>`)}
                </select>`
            : null}
          <label class="choice"><input type="radio" name="link-mode" checked=${mode === "paste"}
            onChange=${() => { setMode("paste"); onChange(""); }} /> ${t("ack.linkPaste")}</label>`
      : reports
        ? html`<p class="hint">${t("ack.noReports")}</p>`
        : null}
    ${mode === "paste"
      ? html`<label for="ack-message-id">${t("ack.messageId")}</label>
          <input id="ack-message-id" value=${value} spellcheck="false" autocomplete="off"
            aria-invalid=${invalid ? "true" : "false"} aria-describedby="ack-message-id-hint"
            onInput=${(e) => onChange(e.target.value.trim())} />
          <span id="ack-message-id-hint" class="hint">${t("ack.messageIdHint")}</span>`
      : null}
  </fieldset>`;
}

function AckPanel({ me, alert, now }) {
  const current = alert.my_ack?.outcome || null;
  const offered = OUTCOMES.slice(current ? OUTCOMES.indexOf(current) + 1 : 0);
  const [note, setNote] = useState("");
  const [seizing, setSeizing] = useState(false);
  const [seizureId, setSeizureId] = useState("");
  const [problem, setProblem] = useState(null);
  const [localError, setLocalError] = useState(null);
  const [busy, setBusy] = useState(false);
  const overdue = isOverdue(alert, now);
  const status = useRef(null);

  async function acknowledge(outcome) {
    setProblem(null);
    setLocalError(null);
    if (outcome === "seized" && seizureId && !UUID.test(seizureId)) {
      setLocalError(t("ack.messageIdInvalid"));
      return;
    }
    const body = { outcome };
    if (note.trim()) body.note = note.trim();
    if (outcome === "seized" && seizureId) body.seizure_message_id = seizureId;
    setBusy(true);
    try {
      await post(`alerts/${alert.id}/ack`, body);
      setNote("");
      setSeizing(false);
      setSeizureId("");
      showNotice("ok", t("ack.done", { outcome: t(`outcome.${outcome}`) }));
      await loadAlert(alert.id);
      status.current?.focus(); // the buttons just pressed may be gone: say what was recorded
    } catch (error) {
      setProblem(error);
    } finally {
      setBusy(false);
    }
  }

  return html`<section class="ack-panel" aria-labelledby="ack-title">
    <h2 id="ack-title">${t("ack.title")}</h2>
    <p class="ack-status" data-outcome=${current || ""} ref=${status} tabindex="-1">
      ${alert.my_ack
        ? html`${t("ack.yours")} <${OutcomeTag} outcome=${current} />
            ${" "}<${Time} iso=${alert.my_ack.acknowledged_at} />`
        : alert.ack_required
          ? t("ack.required")
          : t("ack.notYet")}
      ${alert.respond_by && !alert.my_ack
        ? html`${" "}<span class=${overdue ? "tag tag-overdue" : "tag"}>
            ${t(overdue ? "ack.overdueSince" : "ack.respondBy")} <${Time} iso=${alert.respond_by} /></span>`
        : null}
    </p>
    ${alert.my_ack?.seizure_message_id
      ? html`<p class="hint">${t("ack.linked")} <code>${alert.my_ack.seizure_message_id}</code></p>`
      : null}
    ${me.role === "observer"
      ? html`<p class="info">${t("ack.observer")}</p>`
      : offered.length === 0
        ? html`<p class="info">${t("ack.final")}</p>`
        : html`<div class="ack-form">
            <label for="ack-note">${t("ack.note")}</label>
            <textarea id="ack-note" rows="2" maxlength="2000" value=${note}
              onInput=${(e) => setNote(e.target.value)}></textarea>
            ${seizing
              ? html`<${SeizureLink} me=${me} alert=${alert} value=${seizureId}
                    onChange=${setSeizureId} invalid=${Boolean(localError)} />
                  ${localError ? html`<p class="field-error" role="alert">${localError}</p>` : null}
                  <div class="ack-buttons">
                    <button type="button" class="primary" disabled=${busy}
                      onClick=${() => acknowledge("seized")}>${t("ack.confirmSeized")}</button>
                    <button type="button" onClick=${() => setSeizing(false)}>${t("common.cancel")}</button>
                  </div>`
              : html`<div class="ack-buttons" role="group" aria-label=${t("ack.outcomes")}>
                  ${offered.map(
                    (outcome) => html`<button type="button" data-outcome=${outcome} disabled=${busy}
                      class=${outcome === offered[0] ? "primary" : ""}
                      onClick=${() => (outcome === "seized" ? setSeizing(true) : acknowledge(outcome))}>
                      ${t(`ack.button.${outcome}`)}</button>`,
                  )}
                </div>`}
            <p class="hint">${t("ack.cycle")}</p>
          </div>`}
    <${ProblemView} problem=${problem} />
  </section>`;
}

export function AlertScreen({ me, route }) {
  const alertId = route.params.alertId;
  const alert = useStore(app, (s) => s.alertDetails?.[alertId] || null);
  const now = useClock();
  const [problem, setProblem] = useState(null);
  const verification = useAlertVerification(alert);
  const heading = useFocusHeading([alertId, Boolean(alert)]);

  useEffect(() => {
    setProblem(null);
    loadAlert(alertId)
      .then(() => markOpened(alertId))
      .catch(setProblem);
  }, [alertId]);

  if (!alert) {
    if (!problem) return html`<${Spinner} />`;
    return html`<section class="screen" aria-labelledby="alert-title">
      <h1 id="alert-title" tabindex="-1" ref=${heading}>
        ${problem.status === 404 ? t("alert.notFound") : t("alert.failed")}</h1>
      ${problem.status === 404 ? html`<p>${t("alert.notFoundText")}</p>` : html`<${ProblemView} problem=${problem} />`}
      <p><a href="#/alerts">${t("alert.back")}</a></p>
    </section>`;
  }
  const payload = verification?.payload || signedPayload(alert);
  const body = payload.body || {};
  const sent = isSent(alert);
  const readableGroup = (payload.to?.groups || []).find((id) => groupById(id));
  return html`<section class=${`screen alert-screen priority-${alert.priority}`}
    aria-labelledby="alert-title" data-alert=${alert.id} data-tlp=${alert.hc}>
    <p class="crumb"><a href="#/alerts">${t("alert.back")}</a></p>
    <article class="alert-detail">
      <header>
        <h1 id="alert-title" tabindex="-1" ref=${heading}>${body.title}</h1>
        <div class="alert-meta">
          <${PriorityBadge} priority=${alert.priority} />
          <${TlpBadge} code=${alert.hc} />
          <${VerifiedBadge} verification=${verification} />
          ${isExpired(alert, now) ? html`<span class="tag">${t("alerts.expired")}</span>` : null}
        </div>
      </header>
      <dl class="alert-facts">
        <dt>${t("alert.from")}</dt><dd class="sender">${senderLine(alert)}</dd>
        <dt>${t("alert.sentAt")}</dt><dd><${Time} iso=${alert.created_at} /></dd>
        ${alert.respond_by ? html`<dt>${t("alert.respondBy")}</dt><dd><${Time} iso=${alert.respond_by} /></dd>` : null}
        ${alert.expires_at ? html`<dt>${t("alert.expiresAt")}</dt><dd><${Time} iso=${alert.expires_at} /></dd>` : null}
        <dt>${t("alert.ackRequired")}</dt><dd>${t(alert.ack_required ? "common.yes" : "common.no")}</dd>
      </dl>
      <${Targets} to=${payload.to} />
      <p class="text alert-text">${body.text}</p>
      ${payload.att?.length && readableGroup
        ? html`<${AttachmentRefs} groupId=${readableGroup} refs=${payload.att} />`
        : null}
    </article>
    ${sent || alert.ack_summary?.region
      ? null
      : html`<${AckPanel} key=${alert.id} me=${me} alert=${alert} now=${now} />`}
    ${alert.ack_summary ? html`<${AckBoard} alert=${alert} />` : null}
    <${ProblemView} problem=${problem} />
  </section>`;
}
