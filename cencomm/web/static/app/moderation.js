// Moderation: who may moderate what, the moderation overview with "create a group" (Secretariat),
// one group's settings screen (lifecycle, settings, members, join requests), and the hide/unhide
// actions the timeline shows on each message for those who may moderate its group.
import { useEffect, useRef, useState } from "preact/hooks";
import { patch, post } from "./api.js";
import { html } from "./html.js";
import { formatDate, formatTime, t } from "./i18n.js";
import { navigate } from "./router.js";
import { session } from "./session.js";
import { app, loadGroups, mergeMessages, showNotice } from "./state.js";
import { useStore } from "./store.js";
import { ConfirmAction } from "./confirm.js";
import { MembersSection } from "./members.js";
import { JoinRequestsSection } from "./join_requests.js";
import { ProblemView, Spinner, useFocusHeading } from "./ui.js";
import { REPORT_FORMS } from "./seizure_standard_rules.js";
import {
  CODE_PATTERN,
  FieldError,
  NEXT_STATUS,
  canModerate,
  isStaff,
  nameError,
  replaceGroup,
} from "./moderation_shared.js";

export { canModerate, isStaff } from "./moderation_shared.js";

// Links in the main navigation: "Moderation" for those who moderate something, "Join a group"
// for everyone, "Directory" for admins. `link` is the navigation's own link builder.
export function moderationNavLinks(me, groups, link) {
  const moderates = isStaff(me) || groups.some((g) => g.my_role === "moderator");
  return [
    moderates ? link("#/moderation", "moderation", t("nav.moderation")) : null,
    link("#/join", "join", t("nav.join")),
    me.role === "admin" ? link("#/directory", "directory", t("nav.directory")) : null,
  ];
}

// In a timeline's header: the way to the group's settings screen, for its moderators.
export function ManageLink({ me = session.me, group }) {
  if (!canModerate(me, group)) return null;
  return html`<a class="manage-link" href=${`#/groups/${group.id}/manage`}>${t("moderation.manage")}</a>`;
}

// On each message, for those who may moderate its group: hide with a reason, or unhide.
// (`me` defaults to the signed-in user, so the timeline only passes the group and message.)
export function ModerationActions({ me = session.me, group, message }) {
  const [reason, setReason] = useState("");
  if (!canModerate(me, group)) return null;
  const apply = async (action, body) => {
    const updated = await post(`messages/${message.id}/${action}`, body);
    mergeMessages(updated.group_id, [updated]);
    showNotice("ok", t(action === "hide" ? "hide.done" : "unhide.done", { seq: message.seq }));
  };
  if (message.hidden) {
    return html`<div class="moderation-actions">
      <${ConfirmAction} className="link" label=${t("unhide.button")} question=${t("unhide.question")}
        confirmLabel=${t("unhide.confirm")} onConfirm=${() => apply("unhide")} />
    </div>`;
  }
  const id = `hide-reason-${message.id}`;
  return html`<div class="moderation-actions">
    <${ConfirmAction} className="link" label=${t("hide.button")} question=${t("hide.question")}
      confirmLabel=${t("hide.confirm")} danger=${true} canConfirm=${reason.trim().length > 0}
      onConfirm=${async () => {
        await apply("hide", { reason: reason.trim() });
        setReason("");
      }}>
      <label for=${id}>${t("hide.reason")}</label>
      <p class="hint" id=${`${id}-hint`}>${t("hide.reasonHint")}</p>
      <textarea id=${id} rows="2" maxlength="1000" value=${reason} aria-describedby=${`${id}-hint`}
        onInput=${(e) => setReason(e.target.value)}></textarea>
    </${ConfirmAction}>
  </div>`;
}

// ---- The moderation overview ----------------------------------------------------------------

export function ModerationScreen({ me }) {
  const groups = useStore(app, (s) => s.groups);
  const loaded = useStore(app, (s) => s.groupsLoaded);
  const heading = useFocusHeading([]);
  const mine = groups.filter((g) => canModerate(me, g));
  return html`<section class="screen" aria-labelledby="moderation-title">
    <h1 id="moderation-title" tabindex="-1" ref=${heading}>${t("moderation.title")}</h1>
    <p>${isStaff(me) ? t("moderation.leadStaff") : t("moderation.leadGroup")}</p>
    ${isStaff(me) ? html`<${CreateGroupForm} />` : null}
    <h2>${t("moderation.groups")}</h2>
    ${!loaded
      ? html`<${Spinner} />`
      : mine.length === 0
        ? html`<p>${t("moderation.none")}</p>`
        : html`<ul class="group-list">
            ${mine.map(
              (group) => html`<li class="group-card" data-group=${group.code}>
                <a href=${`#/groups/${group.id}/manage`}>
                  <span class="group-code">${group.code}</span>
                  <span class="group-name">${group.name}</span>
                </a>
                <span class=${`status status-${group.status}`}>${t(`group.status.${group.status}`)}</span>
                <a href=${`#/groups/${group.id}`}>${t("moderation.openTimeline")}</a>
              </li>`,
            )}
          </ul>`}
  </section>`;
}

// `datetime-local` values are the user's local time: sent as UTC.
const toIso = (local) => (local ? new Date(local).toISOString() : undefined);

function CreateGroupForm() {
  const [form, setForm] = useState({
    code: "",
    name: "",
    description: "",
    starts_at: "",
    ends_at: "",
    roster_visible: true,
    report_form: "simplified",
  });
  const [errors, setErrors] = useState({});
  const [problem, setProblem] = useState(null);
  const [busy, setBusy] = useState(false);
  const set = (field) => (e) =>
    setForm({ ...form, [field]: e.target.type === "checkbox" ? e.target.checked : e.target.value });

  function check() {
    const found = {};
    const code = form.code.trim().toUpperCase();
    if (!code) found.code = t("form.required");
    else if (!CODE_PATTERN.test(code)) found.code = t("createGroup.codeRule");
    const name = nameError(form.name);
    if (name) found.name = name;
    if (form.description.length > 4000) found.description = t("form.tooLong", { max: 4000 });
    if (form.starts_at && form.ends_at && new Date(form.ends_at) <= new Date(form.starts_at)) {
      found.ends_at = t("createGroup.endsAfter");
    }
    return found;
  }

  async function submit(event) {
    event.preventDefault();
    setProblem(null);
    const found = check();
    setErrors(found);
    if (Object.keys(found).length) {
      document.getElementById(`group-${Object.keys(found)[0]}`)?.focus();
      return;
    }
    setBusy(true);
    try {
      const body = {
        code: form.code.trim().toUpperCase(),
        name: form.name.trim(),
        roster_visible: form.roster_visible,
        report_form: form.report_form,
      };
      if (form.description.trim()) body.description = form.description.trim();
      if (form.starts_at) body.starts_at = toIso(form.starts_at);
      if (form.ends_at) body.ends_at = toIso(form.ends_at);
      const created = await post("groups", body);
      await loadGroups();
      showNotice("ok", t("createGroup.done", { code: created.code }));
      navigate(`/groups/${created.id}/manage`);
    } catch (error) {
      setProblem(error);
    } finally {
      setBusy(false);
    }
  }

  const field = (name) => ({
    id: `group-${name}`,
    "aria-invalid": errors[name] ? "true" : undefined,
    "aria-describedby": errors[name] ? `group-${name}-error` : undefined,
  });
  return html`<form class="panel-form" onSubmit=${submit} novalidate aria-labelledby="create-group-title">
    <h2 id="create-group-title">${t("createGroup.title")}</h2>
    <p class="hint">${t("createGroup.lead")}</p>
    <div class="form-grid">
      <div class="form-field">
        <label for="group-code">${t("createGroup.code")}</label>
        <p class="hint" id="group-code-hint">${t("createGroup.codeRule")}</p>
        <input ...${field("code")} value=${form.code} maxlength="32" autocapitalize="characters"
          aria-describedby=${errors.code ? "group-code-error group-code-hint" : "group-code-hint"}
          onInput=${set("code")} />
        <${FieldError} id="group-code-error" message=${errors.code} />
      </div>
      <div class="form-field">
        <label for="group-name">${t("createGroup.name")}</label>
        <input ...${field("name")} value=${form.name} maxlength="200" onInput=${set("name")} />
        <${FieldError} id="group-name-error" message=${errors.name} />
      </div>
      <div class="form-field wide">
        <label for="group-description">${t("createGroup.description")}</label>
        <textarea ...${field("description")} rows="2" value=${form.description}
          onInput=${set("description")}></textarea>
        <${FieldError} id="group-description-error" message=${errors.description} />
      </div>
      <div class="form-field">
        <label for="group-starts_at">${t("createGroup.startsAt")}</label>
        <input ...${field("starts_at")} type="datetime-local" value=${form.starts_at}
          onInput=${set("starts_at")} />
      </div>
      <div class="form-field">
        <label for="group-ends_at">${t("createGroup.endsAt")}</label>
        <input ...${field("ends_at")} type="datetime-local" value=${form.ends_at}
          onInput=${set("ends_at")} />
        <${FieldError} id="group-ends_at-error" message=${errors.ends_at} />
      </div>
      <div class="form-field wide">
        <label class="checkbox">
          <input type="checkbox" checked=${form.roster_visible} onChange=${set("roster_visible")}
            aria-describedby="group-roster-hint" />
          ${t("createGroup.rosterVisible")}
        </label>
        <p class="hint" id="group-roster-hint">${t("createGroup.rosterHint")}</p>
      </div>
      <div class="form-field wide">
        <label for="group-report_form">${t("reportForm.label")}</label>
        <select id="group-report_form" value=${form.report_form} onChange=${set("report_form")}
          aria-describedby="group-report_form-hint">
          ${REPORT_FORMS.map((f) => html`<option value=${f}>${t(`reportForm.${f}`)}</option>`)}
        </select>
        <p class="hint" id="group-report_form-hint">${t("reportForm.hint")}</p>
      </div>
    </div>
    <${ProblemView} problem=${problem} fieldLabels=${{
      "body.code": t("createGroup.code"),
      "body.name": t("createGroup.name"),
      "body.description": t("createGroup.description"),
      "body.starts_at": t("createGroup.startsAt"),
      "body.ends_at": t("createGroup.endsAt"),
      "body.report_form": t("reportForm.label"),
    }} />
    <button type="submit" class="primary" disabled=${busy}>${t("createGroup.submit")}</button>
  </form>`;
}

// ---- One group's settings screen ---------------------------------------------------------------

export function GroupManageScreen({ me, route }) {
  const groupId = route.params.groupId;
  const group = useStore(app, (s) => s.groups.find((g) => g.id === groupId) || null);
  const loaded = useStore(app, (s) => s.groupsLoaded);
  const heading = useFocusHeading([groupId]);
  // An approved join request adds a member: the roster reloads.
  const [rosterVersion, setRosterVersion] = useState(0);
  if (!group) {
    return loaded
      ? html`<section class="screen"><h1>${t("timeline.notFound")}</h1>
          <p><a href="#/moderation">${t("moderation.back")}</a></p></section>`
      : html`<${Spinner} />`;
  }
  if (!canModerate(me, group)) {
    return html`<section class="screen"><h1 tabindex="-1" ref=${heading}>${group.name}</h1>
      <p>${t("manage.notModerator")}</p>
      <p><a href=${`#/groups/${group.id}`}>${t("moderation.openTimeline")}</a></p></section>`;
  }
  return html`<section class="screen manage-screen" aria-labelledby="manage-title">
    <header class="screen-head">
      <h1 id="manage-title" tabindex="-1" ref=${heading}>
        <span class="group-code">${group.code}</span> ${group.name}
      </h1>
      <span class=${`status status-${group.status}`} data-status=${group.status}>
        ${t(`group.status.${group.status}`)}</span>
      <a href=${`#/groups/${group.id}`}>${t("moderation.openTimeline")}</a>
    </header>
    <dl class="facts">
      ${group.starts_at ? html`<dt>${t("createGroup.startsAt")}</dt><dd>${formatTime(group.starts_at)}</dd>` : null}
      ${group.ends_at ? html`<dt>${t("createGroup.endsAt")}</dt><dd>${formatTime(group.ends_at)}</dd>` : null}
      <dt>${t("manage.roster")}</dt>
      <dd>${group.roster_visible ? t("manage.rosterVisible") : t("manage.rosterHidden")}</dd>
      <dt>${t("reportForm.label")}</dt>
      <dd data-report-form=${group.report_form}>${t(`reportForm.${group.report_form || "simplified"}`)}</dd>
      <dt>${t("manage.created")}</dt><dd>${formatDate(group.created_at)}</dd>
    </dl>
    ${group.description ? html`<p class="description">${group.description}</p>` : null}
    <${Lifecycle} group=${group} />
    <${GroupSettings} group=${group} />
    <${JoinRequestsSection} group=${group}
      onApproved=${() => setRosterVersion((n) => n + 1)} />
    <${MembersSection} me=${me} group=${group} version=${rosterVersion} />
  </section>`;
}

function Lifecycle({ group }) {
  const [reason, setReason] = useState("");
  const title = useRef(null);
  const next = NEXT_STATUS[group.status] || [];
  async function move(status) {
    const body = { status };
    if (reason.trim()) body.reason = reason.trim();
    const updated = await patch(`groups/${group.id}`, body);
    replaceGroup(updated);
    setReason("");
    // The buttons change with the status: focus goes to the section's heading.
    setTimeout(() => title.current?.focus(), 0);
    showNotice("ok", t("lifecycle.done", { status: t(`group.status.${updated.status}`) }));
  }
  const key = (status) => (group.status === "closed" && status === "active" ? "reopen" : status);
  return html`<section aria-labelledby="lifecycle-title" class="manage-part">
    <h2 id="lifecycle-title" tabindex="-1" ref=${title}>${t("lifecycle.title")}</h2>
    <ol class="lifecycle" aria-label=${t("lifecycle.steps")}>
      ${["planned", "active", "closed", "archived"].map(
        (status) => html`<li class=${status === group.status ? "current" : ""}
          aria-current=${status === group.status ? "step" : undefined}>${t(`group.status.${status}`)}</li>`,
      )}
    </ol>
    <p>${t(`lifecycle.now.${group.status}`)}</p>
    <div class="lifecycle-actions">
      ${next.map(
        (status) => html`<${ConfirmAction} key=${`${group.status}-${status}`}
          label=${t(`lifecycle.${key(status)}.button`)}
          question=${t(`lifecycle.${key(status)}.question`)}
          confirmLabel=${t(`lifecycle.${key(status)}.confirm`)}
          danger=${status === "archived" || status === "closed"}
          onConfirm=${() => move(status)}>
          <label for=${`lifecycle-reason-${status}`}>${t("lifecycle.reason")}</label>
          <input id=${`lifecycle-reason-${status}`} maxlength="1000" value=${reason}
            onInput=${(e) => setReason(e.target.value)} />
        </${ConfirmAction}>`,
      )}
    </div>
  </section>`;
}

// Name, description and end date (PATCH /groups/{id}); only what changed is sent.
function GroupSettings({ group }) {
  const local = (iso) => {
    if (!iso) return "";
    const d = new Date(iso);
    return new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
  };
  const [name, setName] = useState(group.name);
  const [description, setDescription] = useState(group.description || "");
  const [endsAt, setEndsAt] = useState(local(group.ends_at));
  const [reportForm, setReportForm] = useState(group.report_form || "simplified");
  const [errors, setErrors] = useState({});
  const [problem, setProblem] = useState(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    setName(group.name);
    setDescription(group.description || "");
    setEndsAt(local(group.ends_at));
    setReportForm(group.report_form || "simplified");
  }, [group.id, group.name, group.description, group.ends_at, group.report_form]);

  async function submit(event) {
    event.preventDefault();
    setProblem(null);
    const found = {};
    const bad = nameError(name);
    if (bad) found.name = bad;
    if (group.starts_at && endsAt && new Date(endsAt) <= new Date(group.starts_at)) {
      found.ends_at = t("createGroup.endsAfter");
    }
    setErrors(found);
    if (Object.keys(found).length) return;
    const body = {};
    if (name.trim() !== group.name) body.name = name.trim();
    if (description.trim() !== (group.description || "")) body.description = description.trim();
    if (endsAt && endsAt !== local(group.ends_at)) body.ends_at = toIso(endsAt);
    if (reportForm !== (group.report_form || "simplified")) body.report_form = reportForm;
    if (!Object.keys(body).length) {
      showNotice("ok", t("settings.unchanged"));
      return;
    }
    setBusy(true);
    try {
      replaceGroup(await patch(`groups/${group.id}`, body));
      showNotice("ok", t("settings.saved"));
    } catch (error) {
      setProblem(error);
    } finally {
      setBusy(false);
    }
  }

  return html`<details class="manage-part">
    <summary><h2 class="inline">${t("settings.title")}</h2></summary>
    <form class="stack" onSubmit=${submit} novalidate>
      <label for="settings-name">${t("createGroup.name")}</label>
      <input id="settings-name" value=${name} maxlength="200" aria-invalid=${errors.name ? "true" : undefined}
        aria-describedby=${errors.name ? "settings-name-error" : undefined}
        onInput=${(e) => setName(e.target.value)} />
      <${FieldError} id="settings-name-error" message=${errors.name} />
      <label for="settings-description">${t("createGroup.description")}</label>
      <textarea id="settings-description" rows="2" maxlength="4000" value=${description}
        onInput=${(e) => setDescription(e.target.value)}></textarea>
      <label for="settings-ends">${t("createGroup.endsAt")}</label>
      <input id="settings-ends" type="datetime-local" value=${endsAt}
        aria-invalid=${errors.ends_at ? "true" : undefined}
        aria-describedby=${errors.ends_at ? "settings-ends-error" : undefined}
        onInput=${(e) => setEndsAt(e.target.value)} />
      <${FieldError} id="settings-ends-error" message=${errors.ends_at} />
      <label for="settings-report-form">${t("reportForm.label")}</label>
      <select id="settings-report-form" value=${reportForm} aria-describedby="settings-report-form-hint"
        onChange=${(e) => setReportForm(e.target.value)}>
        ${REPORT_FORMS.map((f) => html`<option value=${f}>${t(`reportForm.${f}`)}</option>`)}
      </select>
      <p class="hint" id="settings-report-form-hint">${t("reportForm.hint")}</p>
      <${ProblemView} problem=${problem} />
      <button type="submit" class="primary" disabled=${busy}>${t("settings.save")}</button>
    </form>
  </details>`;
}
