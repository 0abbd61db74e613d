// Writing an alert (RILO analysts, moderators and admins; officers to groups they post in):
// title, text, priority, acknowledgement, deadlines, TLP and targets, checked here the way the
// server checks them, signed on this device and sent to POST /alerts.
import { useEffect, useMemo, useState } from "preact/hooks";
import { get, query } from "./api.js";
import { html } from "./html.js";
import { countryName, t } from "./i18n.js";
import { buildPayload, createOutbox } from "./envelopes.js";
import { navigate } from "./router.js";
import { app, showNotice } from "./state.js";
import { useStore } from "./store.js";
import { ProblemView, Spinner, TLP_CODES, useFocusHeading } from "./ui.js";
import { loadAlert } from "./alert_state.js";
import { REGIONS } from "./countries.js";

const PRIORITIES = ["flash", "immediate", "routine"];
const MAX_TITLE = 200;
const MAX_TEXT = 60_000;
const STAFF = ["admin", "moderator"];

// Groups the caller may alert: staff any active group; others those they post in.
function alertableGroups(me, groups) {
  return groups.filter(
    (g) => g.status === "active" && (STAFF.includes(me.role) || (g.my_role && g.my_role !== "observer")),
  );
}

export function canSendAlerts(me, groups) {
  if (me.role === "observer") return false;
  if (me.role === "officer") return alertableGroups(me, groups).length > 0;
  return ["admin", "moderator", "analyst"].includes(me.role);
}

const mayTargetOrganizations = (me) => me.role !== "officer";
const mayTargetAll = (me) => STAFF.includes(me.role);

// Organisations to choose from: the directory for admins and moderators (the only roles that
// may read GET /organizations); for analysts, who would get 403, the organisations this page
// already knows by name: their own, organisation members of their groups, senders of the alerts
// they received and the organisations on the boards of alerts they opened.
async function loadOrganizations(me) {
  if (STAFF.includes(me.role)) {
    const organizations = [];
    let after = null;
    do {
      const page = await get(`organizations${query({ limit: 500, after })}`);
      organizations.push(...page.organizations);
      after = page.next;
    } while (after);
    return { organizations, complete: true };
  }
  const known = new Map();
  const add = (id, name, extra = {}) => {
    if (id && name && !known.has(id)) known.set(id, { id, name, ...extra });
  };
  if (me.organization) add(me.organization.id, me.organization.name, me.organization);
  for (const alert of app.get().alerts) add(alert.sender.organization_id, alert.sender.organization_name);
  for (const alert of Object.values(app.get().alertDetails || {})) {
    for (const org of alert.ack_summary?.organizations || []) add(org.id, org.name);
  }
  const groups = app.get().groups.slice(0, 30);
  const rosters = await Promise.all(
    groups.map((g) => get(`groups/${g.id}/members`).catch(() => ({ members: [] }))),
  );
  for (const roster of rosters) {
    for (const member of roster.members) {
      if (member.kind === "organization") add(member.organization_id, member.name);
    }
  }
  const organizations = [...known.values()].sort((a, b) => a.name.localeCompare(b.name));
  return { organizations, complete: false };
}

// datetime-local (the browser's local time) → Unix seconds, or null when empty.
export function toUnixSeconds(value) {
  if (!value) return null;
  const ms = new Date(value).getTime();
  return Number.isNaN(ms) ? Number.NaN : Math.floor(ms / 1000);
}

function emptyDraft() {
  return {
    title: "",
    text: "",
    priority: "immediate",
    ack_required: true,
    respond_by: "",
    expires_at: "",
    hc: "TLP:AMBER",
    groups: [],
    organizations: [],
    regions: [],
    all: false,
  };
}

// The checks the server makes (domain/envelopes.py), all at once, with its field names.
export function checkDraft(draft, now = Math.floor(Date.now() / 1000)) {
  const errors = [];
  const add = (field, key, params) => errors.push({ field, message: t(key, params) });
  if (!draft.title.trim()) add("body.title", "alertCompose.error.required");
  else if (draft.title.length > MAX_TITLE) add("body.title", "alertCompose.error.tooLong", { max: MAX_TITLE });
  if (!draft.text.trim()) add("body.text", "alertCompose.error.required");
  else if (draft.text.length > MAX_TEXT) add("body.text", "alertCompose.error.tooLong", { max: MAX_TEXT });
  const respondBy = toUnixSeconds(draft.respond_by);
  const expiresAt = toUnixSeconds(draft.expires_at);
  for (const [field, value] of [["body.respond_by", respondBy], ["body.expires_at", expiresAt]]) {
    if (value === null) continue;
    if (Number.isNaN(value)) add(field, "alertCompose.error.badTime");
    else if (value <= now) add(field, "alertCompose.error.past");
  }
  if (respondBy && expiresAt && respondBy > expiresAt) add("body.respond_by", "alertCompose.error.afterExpiry");
  const { groups, organizations, regions, all } = draft;
  if (!groups.length && !organizations.length && !regions.length && !all) add("to", "alertCompose.error.noTarget");
  if (draft.hc === "TLP:RED") {
    if (regions.length) add("to.regions", "alertCompose.error.redBroadcast");
    if (all) add("to.all", "alertCompose.error.redBroadcast");
  }
  return errors;
}

function alertBody(draft) {
  const body = {
    title: draft.title.trim(),
    text: draft.text.trim(),
    priority: draft.priority,
    ack_required: draft.ack_required,
  };
  const respondBy = toUnixSeconds(draft.respond_by);
  const expiresAt = toUnixSeconds(draft.expires_at);
  if (respondBy) body.respond_by = respondBy;
  if (expiresAt) body.expires_at = expiresAt;
  return body;
}

function alertTargets(draft) {
  const to = {};
  if (draft.groups.length) to.groups = draft.groups;
  if (draft.organizations.length) to.organizations = draft.organizations;
  if (draft.regions.length) to.regions = draft.regions;
  if (draft.all) to.all = true;
  return to;
}

// Every error for a field and the fields under it (`to.groups[0]` belongs to `to.groups`).
function errorsFor(errors, field) {
  return errors
    .filter((e) => e.field === field || e.field.startsWith(`${field}[`) || e.field.startsWith(`${field}.`))
    .map((e) => e.message);
}

function FieldErrors({ id, messages }) {
  if (!messages.length) return null;
  return html`<ul class="field-error" id=${id}>${messages.map((m) => html`<li>${m}</li>`)}</ul>`;
}

function toggle(list, value, on) {
  return on ? [...new Set([...list, value])] : list.filter((v) => v !== value);
}

function OrganizationPicker({ me, value, onChange, errors }) {
  const [state, setState] = useState(null);
  const [problem, setProblem] = useState(null);
  const [filter, setFilter] = useState("");
  useEffect(() => {
    loadOrganizations(me).then(setState).catch(setProblem);
  }, [me.id]);
  const needle = filter.trim().toLowerCase();
  const shown = (state?.organizations || []).filter(
    (o) => value.includes(o.id) || !needle || o.name.toLowerCase().includes(needle) ||
      (o.country || "").toLowerCase() === needle,
  );
  return html`<fieldset class="targets-orgs">
    <legend>${t("alertCompose.organizations")}</legend>
    <${ProblemView} problem=${problem} />
    ${state === null && !problem ? html`<${Spinner} />` : null}
    ${state && !state.complete ? html`<p class="hint">${t("alertCompose.orgsPartial")}</p>` : null}
    ${state?.organizations.length > 8
      ? html`<label for="org-filter">${t("alertCompose.orgFilter")}</label>
          <input id="org-filter" type="search" value=${filter} onInput=${(e) => setFilter(e.target.value)} />`
      : null}
    ${state
      ? state.organizations.length
        ? html`<ul class="choices org-choices">
            ${shown.map(
              (org) => html`<li><label>
                <input type="checkbox" name="organizations" value=${org.id} checked=${value.includes(org.id)}
                  onChange=${(e) => onChange(toggle(value, org.id, e.target.checked))} />
                ${org.name}${org.country ? html` <span class="hint">${countryName(org.country)}</span>` : null}
              </label></li>`,
            )}
          </ul>`
        : html`<p class="hint">${t("alertCompose.noOrgs")}</p>`
      : null}
    <${FieldErrors} id="err-orgs" messages=${errors} />
  </fieldset>`;
}

export function NewAlertScreen({ me, device }) {
  const groups = useStore(app, (s) => s.groups);
  const groupsLoaded = useStore(app, (s) => s.groupsLoaded);
  const [draft, setDraft] = useState(emptyDraft);
  const [localErrors, setLocalErrors] = useState([]);
  const [problem, setProblem] = useState(null);
  const [busy, setBusy] = useState(false);
  const outbox = useMemo(() => createOutbox("alerts"), []);
  const heading = useFocusHeading([]);
  const set = (field) => (e) => setDraft({ ...draft, [field]: e.target.value });
  const choices = alertableGroups(me, groups);
  const red = draft.hc === "TLP:RED";

  if (!groupsLoaded) return html`<${Spinner} />`;
  if (!canSendAlerts(me, groups)) {
    return html`<section class="screen" aria-labelledby="new-alert-title">
      <h1 id="new-alert-title" tabindex="-1" ref=${heading}>${t("alertCompose.title")}</h1>
      <p class="info">${t("alertCompose.notAllowed")}</p>
      <p><a href="#/alerts">${t("alert.back")}</a></p>
    </section>`;
  }

  // Server errors name payload fields (`body.title`, `to.groups[0]`); local ones the same.
  const serverErrors = (problem?.errors || []).map((e) => ({
    field: e.field.replace(/^(jws\.)?payload\./, ""),
    message: e.message,
  }));
  const allErrors = [...localErrors, ...serverErrors];
  const errs = (field) => errorsFor(allErrors, field);
  const invalid = (field) => (errs(field).length ? "true" : "false");

  async function submit(event) {
    event.preventDefault();
    setProblem(null);
    const errors = checkDraft(draft);
    setLocalErrors(errors);
    if (errors.length) return;
    setBusy(true);
    const body = alertBody(draft);
    const to = alertTargets(draft);
    try {
      const answer = await outbox.send(device, { hc: draft.hc, body, to }, () =>
        buildPayload({ me, typ: "alert", hc: draft.hc, body, to }),
      );
      showNotice("ok", t("alertCompose.sent", { recipients: answer.recipients, organizations: answer.organizations }));
      // The inbox gets it now (senders get no live frame of their own alert).
      await loadAlert(answer.id).catch(() => null);
      setDraft(emptyDraft());
      navigate(`/alerts/${answer.id}`);
    } catch (error) {
      setProblem(error);
    } finally {
      setBusy(false);
    }
  }

  const localProblem = localErrors.length
    ? { slug: "local", title: t("alertCompose.fix"), detail: "", errors: localErrors }
    : null;
  const fieldLabels = {
    "body.title": t("alertCompose.field.title"),
    "body.text": t("alertCompose.field.text"),
    "body.respond_by": t("alertCompose.field.respondBy"),
    "body.expires_at": t("alertCompose.field.expiresAt"),
    to: t("alertCompose.field.to"),
    "to.regions": t("alertCompose.field.regions"),
    "to.all": t("alertCompose.field.all"),
  };

  return html`<section class="screen new-alert" aria-labelledby="new-alert-title">
    <p class="crumb"><a href="#/alerts">${t("alert.back")}</a></p>
    <h1 id="new-alert-title" tabindex="-1" ref=${heading}>${t("alertCompose.title")}</h1>
    <form class="alert-composer" onSubmit=${submit} novalidate aria-describedby="alert-compose-lead">
      <p id="alert-compose-lead" class="hint">${t("alertCompose.lead")}</p>
      <label for="alert-title">${t("alertCompose.field.title")}</label>
      <input id="alert-title" name="title" maxlength=${MAX_TITLE} value=${draft.title}
        aria-invalid=${invalid("body.title")} aria-describedby="err-title" onInput=${set("title")} />
      <${FieldErrors} id="err-title" messages=${errs("body.title")} />

      <label for="alert-text">${t("alertCompose.field.text")}</label>
      <textarea id="alert-text" name="text" rows="5" maxlength=${MAX_TEXT} value=${draft.text}
        aria-invalid=${invalid("body.text")} aria-describedby="err-text" onInput=${set("text")}></textarea>
      <${FieldErrors} id="err-text" messages=${errs("body.text")} />

      <div class="composer-row">
        <label>${t("alertCompose.field.priority")}
          <select name="priority" value=${draft.priority} onChange=${set("priority")}
            aria-invalid=${invalid("body.priority")}>
            ${PRIORITIES.map((p) => html`<option value=${p}>${t(`priority.${p}`)}</option>`)}
          </select>
        </label>
        <label>${t("compose.tlp")}
          <select name="hc" value=${draft.hc} onChange=${set("hc")} aria-describedby="tlp-hint">
            ${TLP_CODES.map((code) => html`<option value=${code}>${code}</option>`)}
          </select>
        </label>
        <label class="inline">
          <input type="checkbox" name="ack_required" checked=${draft.ack_required}
            onChange=${(e) => setDraft({ ...draft, ack_required: e.target.checked })} />
          ${t("alertCompose.field.ackRequired")}
        </label>
      </div>
      <p id="tlp-hint" class="hint">${t(red ? "alertCompose.redHint" : `tlp.${draft.hc}.help`)}</p>
      <${FieldErrors} id="err-priority" messages=${errs("body.priority")} />

      <div class="composer-row">
        <label>${t("alertCompose.field.respondBy")}
          <input type="datetime-local" name="respond_by" value=${draft.respond_by}
            aria-invalid=${invalid("body.respond_by")} onInput=${set("respond_by")} />
        </label>
        <label>${t("alertCompose.field.expiresAt")}
          <input type="datetime-local" name="expires_at" value=${draft.expires_at}
            aria-invalid=${invalid("body.expires_at")} onInput=${set("expires_at")} />
        </label>
      </div>
      <p class="hint">${t("alertCompose.timesHint")}</p>
      <${FieldErrors} id="err-respond" messages=${errs("body.respond_by")} />
      <${FieldErrors} id="err-expires" messages=${errs("body.expires_at")} />

      <fieldset class="targets" aria-describedby="err-to">
        <legend>${t("alertCompose.field.to")}</legend>
        <${FieldErrors} id="err-to" messages=${allErrors.filter((e) => e.field === "to").map((e) => e.message)} />
        <fieldset class="targets-groups">
          <legend>${t("alertCompose.groups")}</legend>
          ${choices.length
            ? html`<ul class="choices">
                ${choices.map(
                  (g) => html`<li><label>
                    <input type="checkbox" name="groups" value=${g.id} checked=${draft.groups.includes(g.id)}
                      onChange=${(e) => setDraft({ ...draft, groups: toggle(draft.groups, g.id, e.target.checked) })} />
                    <span class="group-code">${g.code}</span> ${g.name}
                  </label></li>`,
                )}
              </ul>`
            : html`<p class="hint">${t("alertCompose.noGroups")}</p>`}
          <${FieldErrors} id="err-groups" messages=${errs("to.groups")} />
        </fieldset>
        ${mayTargetOrganizations(me)
          ? html`<${OrganizationPicker} me=${me} value=${draft.organizations}
                errors=${errs("to.organizations")}
                onChange=${(organizations) => setDraft({ ...draft, organizations })} />
              <fieldset class="targets-regions">
                <legend>${t("alertCompose.regions")}</legend>
                ${red ? html`<p class="hint">${t("alertCompose.redNoRegions")}</p>` : null}
                <ul class="choices">
                  ${REGIONS.map(
                    (r) => html`<li><label>
                      <input type="checkbox" name="regions" value=${r} checked=${draft.regions.includes(r)}
                        aria-invalid=${invalid("to.regions")}
                        onChange=${(e) => setDraft({ ...draft, regions: toggle(draft.regions, r, e.target.checked) })} />
                      ${t(`region.${r}`)}
                    </label></li>`,
                  )}
                </ul>
                <${FieldErrors} id="err-regions" messages=${errs("to.regions")} />
              </fieldset>`
          : html`<p class="hint">${t("alertCompose.officerTargets")}</p>`}
        ${mayTargetAll(me)
          ? html`<label class="inline">
              <input type="checkbox" name="all" checked=${draft.all} aria-invalid=${invalid("to.all")}
                onChange=${(e) => setDraft({ ...draft, all: e.target.checked })} />
              ${t("alertCompose.all")}
            </label>
            <${FieldErrors} id="err-all" messages=${errs("to.all")} />`
          : null}
      </fieldset>

      <${ProblemView} problem=${localProblem} fieldLabels=${fieldLabels} />
      <${ProblemView} problem=${problem} fieldLabels=${fieldLabels} />
      <div class="composer-actions">
        <button type="submit" class="primary" disabled=${busy}>
          ${busy ? t("compose.signing") : t("alertCompose.send")}</button>
        <span class="hint">${t("compose.signedWith")}</span>
      </div>
    </form>
  </section>`;
}
