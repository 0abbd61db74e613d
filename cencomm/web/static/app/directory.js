// The directory (admins): organisations (kind, country, region) and users (role, organisation,
// password, disable/enable, role change). The rules the server enforces are shown next to each
// field and checked here before sending; whatever the server still refuses is listed in full.
//
// Not offered: resetting a user's two-factor authentication. The API has no route for it (see
// docs/api.md), so this screen says so instead of pretending.
import { useEffect, useState } from "preact/hooks";
import { patch, post } from "./api.js";
import { html } from "./html.js";
import { countryName, formatDate, t } from "./i18n.js";
import { ConfirmAction } from "./confirm.js";
import { forgetDirectory } from "./members.js";
import { FieldError, loadAll, nameError } from "./moderation_shared.js";
import { showNotice } from "./state.js";
import { ProblemView, Spinner, useFocusHeading } from "./ui.js";
import { REGIONS } from "./countries.js";

export const ORG_KINDS = ["administration", "rilo", "secretariat", "partner"];
export const ROLES = ["admin", "moderator", "analyst", "officer", "observer"];
const USERNAME = /^[a-z0-9][a-z0-9._-]{2,63}$/;
const MIN_PASSWORD = 12;

// A two-letter code the browser knows as a region (ISO 3166-1 alpha-2); the server decides.
function countryError(code, required) {
  const value = code.trim().toUpperCase();
  if (!value) return required ? t("directory.countryRequired") : null;
  if (!/^[A-Z]{2}$/.test(value) || countryName(value) === value) return t("directory.countryRule");
  return null;
}

function useField(prefix, errors) {
  return (name, hint = false) => {
    const described = [errors[name] ? `${prefix}-${name}-error` : null, hint ? `${prefix}-${name}-hint` : null]
      .filter(Boolean)
      .join(" ");
    return {
      id: `${prefix}-${name}`,
      "aria-invalid": errors[name] ? "true" : undefined,
      "aria-describedby": described || undefined,
    };
  };
}

const focusFirst = (prefix, errors) => {
  const first = Object.keys(errors)[0];
  if (first) document.getElementById(`${prefix}-${first}`)?.focus();
};

export function DirectoryScreen({ me }) {
  const [organizations, setOrganizations] = useState(null);
  const [users, setUsers] = useState(null);
  const [problem, setProblem] = useState(null);
  const heading = useFocusHeading([]);
  const loadOrgs = () => loadAll("organizations", "organizations").then(setOrganizations).catch(setProblem);
  const loadUsers = () => loadAll("users", "users").then(setUsers).catch(setProblem);
  useEffect(() => {
    if (me.role !== "admin") return;
    loadOrgs();
    loadUsers();
  }, [me.role]);
  if (me.role !== "admin") {
    return html`<section class="screen"><h1 tabindex="-1" ref=${heading}>${t("directory.title")}</h1>
      <p>${t("directory.adminsOnly")}</p></section>`;
  }
  const orgById = new Map((organizations || []).map((o) => [o.id, o]));
  return html`<section class="screen directory" aria-labelledby="directory-title">
    <h1 id="directory-title" tabindex="-1" ref=${heading}>${t("directory.title")}</h1>
    <p>${t("directory.lead")}</p>
    <nav class="subnav" aria-label=${t("directory.sections")}>
      <a href="#/directory" onClick=${(e) => {
        e.preventDefault();
        document.getElementById("orgs-title")?.focus();
      }}>${t("directory.organizations")}</a>
      <a href="#/directory" onClick=${(e) => {
        e.preventDefault();
        document.getElementById("users-title")?.focus();
      }}>${t("directory.users")}</a>
    </nav>
    <${ProblemView} problem=${problem} />

    <section aria-labelledby="orgs-title" class="manage-part">
      <h2 id="orgs-title" tabindex="-1">${t("directory.organizations")}</h2>
      <${OrganizationForm} onCreated=${() => {
        forgetDirectory();
        return loadOrgs();
      }} />
      ${organizations === null
        ? html`<${Spinner} />`
        : html`<table class="data organizations">
            <caption class="visually-hidden">${t("directory.organizations")}</caption>
            <thead><tr>
              <th scope="col">${t("directory.orgName")}</th>
              <th scope="col">${t("directory.kind")}</th>
              <th scope="col">${t("directory.country")}</th>
              <th scope="col">${t("directory.region")}</th>
              <th scope="col">${t("directory.created")}</th>
            </tr></thead>
            <tbody>
              ${organizations.map(
                (o) => html`<tr data-org=${o.id}>
                  <td><strong>${o.name}</strong></td>
                  <td>${t(`org.kind.${o.kind}`)}</td>
                  <td>${o.country ? `${countryName(o.country)} (${o.country})` : "—"}</td>
                  <td>${o.region ? t(`region.${o.region}`) : "—"}</td>
                  <td>${formatDate(o.created_at)}</td>
                </tr>`,
              )}
            </tbody>
          </table>`}
    </section>

    <section aria-labelledby="users-title" class="manage-part">
      <h2 id="users-title" tabindex="-1">${t("directory.users")}</h2>
      <${UserForm} organizations=${organizations || []} onCreated=${() => {
        forgetDirectory();
        return loadUsers();
      }} />
      <p class="hint">${t("directory.noMfaReset")}</p>
      ${users === null
        ? html`<${Spinner} />`
        : html`<table class="data users">
            <caption class="visually-hidden">${t("directory.users")}</caption>
            <thead><tr>
              <th scope="col">${t("directory.displayName")}</th>
              <th scope="col">${t("directory.organization")}</th>
              <th scope="col">${t("directory.role")}</th>
              <th scope="col">${t("directory.state")}</th>
              <th scope="col">${t("directory.mfa")}</th>
            </tr></thead>
            <tbody>
              ${users.map(
                (u) => html`<${UserRow} key=${u.id} me=${me} user=${u} org=${orgById.get(u.organization_id)}
                  onChanged=${(updated) => {
                    forgetDirectory();
                    setUsers((list) => list.map((x) => (x.id === updated.id ? updated : x)));
                  }} />`,
              )}
            </tbody>
          </table>`}
    </section>
  </section>`;
}

function OrganizationForm({ onCreated }) {
  const empty = { name: "", kind: "administration", country: "", region: "" };
  const [form, setForm] = useState(empty);
  const [errors, setErrors] = useState({});
  const [problem, setProblem] = useState(null);
  const [busy, setBusy] = useState(false);
  const field = useField("org", errors);
  const set = (name) => (e) => setForm({ ...form, [name]: e.target.value });
  const countryRequired = form.kind === "administration";
  const shownCountry = /^[A-Za-z]{2}$/.test(form.country.trim()) ? countryName(form.country.trim().toUpperCase()) : "";

  async function submit(event) {
    event.preventDefault();
    setProblem(null);
    const found = {};
    const name = nameError(form.name);
    if (name) found.name = name;
    const country = countryError(form.country, countryRequired);
    if (country) found.country = country;
    setErrors(found);
    if (Object.keys(found).length) {
      focusFirst("org", found);
      return;
    }
    setBusy(true);
    try {
      const body = { name: form.name.trim(), kind: form.kind };
      if (form.country.trim()) body.country = form.country.trim().toUpperCase();
      if (form.region) body.region = form.region;
      const created = await post("organizations", body);
      setForm(empty);
      showNotice("ok", t("directory.orgCreated", { name: created.name }));
      await onCreated();
    } catch (error) {
      setProblem(error);
    } finally {
      setBusy(false);
    }
  }

  return html`<details class="panel-form" open>
    <summary>${t("directory.newOrg")}</summary>
    <form onSubmit=${submit} novalidate aria-label=${t("directory.newOrg")}>
      <div class="form-grid">
        <div class="form-field">
          <label for="org-name">${t("directory.orgName")}</label>
          <p class="hint" id="org-name-hint">${t("directory.nameRule")}</p>
          <input ...${field("name", true)} value=${form.name} maxlength="200" onInput=${set("name")} />
          <${FieldError} id="org-name-error" message=${errors.name} />
        </div>
        <div class="form-field">
          <label for="org-kind">${t("directory.kind")}</label>
          <select ...${field("kind")} value=${form.kind} onChange=${set("kind")}>
            ${ORG_KINDS.map((k) => html`<option value=${k}>${t(`org.kind.${k}`)}</option>`)}
          </select>
        </div>
        <div class="form-field">
          <label for="org-country">${t("directory.country")}${countryRequired ? html` <span class="required">${t("form.requiredMark")}</span>` : null}</label>
          <p class="hint" id="org-country-hint">
            ${countryRequired ? t("directory.countryHintRequired") : t("directory.countryHint")}
            ${shownCountry ? html` <strong class="country-preview">${shownCountry}</strong>` : null}</p>
          <input ...${field("country", true)} value=${form.country} maxlength="2" autocapitalize="characters"
            class="short" onInput=${set("country")} />
          <${FieldError} id="org-country-error" message=${errors.country} />
        </div>
        <div class="form-field">
          <label for="org-region">${t("directory.region")}</label>
          <p class="hint" id="org-region-hint">${t("directory.regionHint")}</p>
          <select ...${field("region", true)} value=${form.region} onChange=${set("region")}>
            <option value="">${t("directory.noRegion")}</option>
            ${REGIONS.map((r) => html`<option value=${r}>${t(`region.${r}`)}</option>`)}
          </select>
        </div>
      </div>
      <${ProblemView} problem=${problem} fieldLabels=${{
        "body.name": t("directory.orgName"),
        "body.kind": t("directory.kind"),
        "body.country": t("directory.country"),
        "body.region": t("directory.region"),
      }} />
      <button type="submit" class="primary" disabled=${busy}>${t("directory.createOrg")}</button>
    </form>
  </details>`;
}

function UserForm({ organizations, onCreated }) {
  const empty = { username: "", display_name: "", organization_id: "", role: "officer", password: "", email: "" };
  const [form, setForm] = useState(empty);
  const [errors, setErrors] = useState({});
  const [problem, setProblem] = useState(null);
  const [busy, setBusy] = useState(false);
  const field = useField("user", errors);
  const set = (name) => (e) => setForm({ ...form, [name]: e.target.value });

  async function submit(event) {
    event.preventDefault();
    setProblem(null);
    const found = {};
    const username = form.username.normalize("NFKC").trim().toLowerCase();
    if (!username) found.username = t("form.required");
    else if (!USERNAME.test(username)) found.username = t("directory.usernameRule");
    const name = nameError(form.display_name);
    if (name) found.display_name = name;
    if (!form.organization_id) found.organization_id = t("form.required");
    if (form.password.length < MIN_PASSWORD) found.password = t("directory.passwordRule", { min: MIN_PASSWORD });
    else if (form.password.length > 1024) found.password = t("form.tooLong", { max: 1024 });
    if (form.email.trim() && !/^[^\s@]+@[^\s@]+$/.test(form.email.trim())) found.email = t("directory.emailRule");
    setErrors(found);
    if (Object.keys(found).length) {
      focusFirst("user", found);
      return;
    }
    setBusy(true);
    try {
      const body = {
        username,
        display_name: form.display_name.trim(),
        organization_id: form.organization_id,
        role: form.role,
        password: form.password,
      };
      if (form.email.trim()) body.email = form.email.trim();
      const created = await post("users", body);
      setForm(empty);
      showNotice("ok", t("directory.userCreated", { username: created.username }));
      await onCreated();
    } catch (error) {
      setProblem(error);
    } finally {
      setBusy(false);
    }
  }

  return html`<details class="panel-form" open>
    <summary>${t("directory.newUser")}</summary>
    <form onSubmit=${submit} novalidate aria-label=${t("directory.newUser")} autocomplete="off">
      <div class="form-grid">
        <div class="form-field">
          <label for="user-username">${t("directory.username")}</label>
          <p class="hint" id="user-username-hint">${t("directory.usernameRule")}</p>
          <input ...${field("username", true)} value=${form.username} maxlength="64" autocapitalize="none"
            spellcheck="false" onInput=${set("username")} />
          <${FieldError} id="user-username-error" message=${errors.username} />
        </div>
        <div class="form-field">
          <label for="user-display_name">${t("directory.displayName")}</label>
          <p class="hint" id="user-display_name-hint">${t("directory.nameRule")}</p>
          <input ...${field("display_name", true)} value=${form.display_name} maxlength="200"
            onInput=${set("display_name")} />
          <${FieldError} id="user-display_name-error" message=${errors.display_name} />
        </div>
        <div class="form-field">
          <label for="user-organization_id">${t("directory.organization")}</label>
          <select ...${field("organization_id")} value=${form.organization_id} onChange=${set("organization_id")}>
            <option value="">${t("members.choose")}</option>
            ${organizations.map((o) => html`<option value=${o.id}>${o.name}${o.country ? ` · ${o.country}` : ""}</option>`)}
          </select>
          <${FieldError} id="user-organization_id-error" message=${errors.organization_id} />
        </div>
        <div class="form-field">
          <label for="user-role">${t("directory.role")}</label>
          <p class="hint" id="user-role-hint">${t(`role.${form.role}.help`)}</p>
          <select ...${field("role", true)} value=${form.role} onChange=${set("role")}>
            ${ROLES.map((r) => html`<option value=${r}>${t(`role.${r}`)}</option>`)}
          </select>
        </div>
        <div class="form-field">
          <label for="user-password">${t("directory.password")}</label>
          <p class="hint" id="user-password-hint">
            ${t("directory.passwordRule", { min: MIN_PASSWORD })}
            ${" "}${t("directory.passwordCount", { count: form.password.length })}</p>
          <input ...${field("password", true)} type="password" autocomplete="new-password"
            value=${form.password} maxlength="1024" onInput=${set("password")} />
          <${FieldError} id="user-password-error" message=${errors.password} />
        </div>
        <div class="form-field">
          <label for="user-email">${t("directory.email")}</label>
          <p class="hint" id="user-email-hint">${t("directory.emailHint")}</p>
          <input ...${field("email", true)} type="email" value=${form.email} maxlength="254"
            onInput=${set("email")} />
          <${FieldError} id="user-email-error" message=${errors.email} />
        </div>
      </div>
      <${ProblemView} problem=${problem} fieldLabels=${{
        "body.username": t("directory.username"),
        "body.display_name": t("directory.displayName"),
        "body.organization_id": t("directory.organization"),
        "body.role": t("directory.role"),
        "body.password": t("directory.password"),
        "body.email": t("directory.email"),
      }} />
      <button type="submit" class="primary" disabled=${busy}>${t("directory.createUser")}</button>
    </form>
  </details>`;
}

function UserRow({ me, user, org, onChanged }) {
  const [role, setRole] = useState(user.role);
  const [problem, setProblem] = useState(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => setRole(user.role), [user.role]);
  const self = user.id === me.id;

  async function change(body) {
    const updated = await patch(`users/${user.id}`, body);
    onChanged(updated);
    return updated;
  }

  async function saveRole() {
    setBusy(true);
    setProblem(null);
    try {
      await change({ role });
      showNotice("ok", t("directory.roleChanged", { username: user.username }));
    } catch (error) {
      setProblem(error);
    } finally {
      setBusy(false);
    }
  }

  return html`<tr data-user=${user.username}>
    <td><strong>${user.display_name}</strong><br /><code>${user.username}</code>
      ${self ? html` <span class="tag">${t("members.you")}</span>` : null}</td>
    <td>${org?.name || "—"}</td>
    <td>
      <label class="visually-hidden" for=${`urole-${user.id}`}>${t("directory.roleOf", { username: user.username })}</label>
      <select id=${`urole-${user.id}`} value=${role} disabled=${self} onChange=${(e) => setRole(e.target.value)}>
        ${ROLES.map((r) => html`<option value=${r}>${t(`role.${r}`)}</option>`)}
      </select>
      ${role !== user.role
        ? html` <button type="button" onClick=${saveRole} disabled=${busy}>${t("members.saveRole")}</button>`
        : null}
      <${ProblemView} problem=${problem} />
    </td>
    <td>
      <span class=${user.disabled ? "state-disabled" : "state-enabled"}>
        ${user.disabled ? t("directory.disabled") : t("directory.enabled")}</span>
      ${self
        ? null
        : user.disabled
          ? html`<${ConfirmAction} label=${t("directory.enable")}
              question=${t("directory.enableQuestion", { username: user.username })}
              confirmLabel=${t("directory.confirmEnable")} onConfirm=${() => change({ disabled: false })} />`
          : html`<${ConfirmAction} label=${t("directory.disable")} danger=${true}
              question=${t("directory.disableQuestion", { username: user.username })}
              confirmLabel=${t("directory.confirmDisable")} onConfirm=${() => change({ disabled: true })} />`}
    </td>
    <td>${user.mfa_enabled ? t("directory.mfaOn") : t("directory.mfaOff")}</td>
  </tr>`;
}
