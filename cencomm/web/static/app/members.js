// A group's members (users and whole organisations, each with a group role): the list, adding,
// changing a role, removing with a confirmation.
//
// Who can pick whom: the directory (GET /users, GET /organizations) is readable by Secretariat
// staff (admins and moderators) only, so they choose from lists. A group moderator who is not
// staff adds a person or an organisation by id (each user sees their own id on "Join a group"),
// or approves the person's join request, which admits them as a member.
import { useEffect, useRef, useState } from "preact/hooks";
import { del, get, post } from "./api.js";
import { html } from "./html.js";
import { formatDate, t } from "./i18n.js";
import { ConfirmAction } from "./confirm.js";
import { FieldError, isStaff, loadAll } from "./moderation_shared.js";
import { loadGroups } from "./state.js";
import { ProblemView, Spinner } from "./ui.js";

export const GROUP_ROLES = ["member", "moderator", "observer"];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// The directory for staff, loaded once per page and shared by the screens that need names.
let directory = null;
export function loadDirectory(force = false) {
  if (force || !directory) {
    directory = Promise.all([loadAll("users", "users"), loadAll("organizations", "organizations")])
      .then(([users, organizations]) => ({
        users,
        organizations,
        userById: new Map(users.map((u) => [u.id, u])),
        orgById: new Map(organizations.map((o) => [o.id, o])),
      }))
      .catch((error) => {
        directory = null;
        throw error;
      });
  }
  return directory;
}

export function forgetDirectory() {
  directory = null;
}

// {users, organizations, userById, orgById} for staff; null for everyone else (or while loading).
export function useDirectory(me) {
  const [value, setValue] = useState(null);
  useEffect(() => {
    if (!isStaff(me)) return undefined;
    let live = true;
    loadDirectory()
      .then((d) => live && setValue(d))
      .catch(() => {});
    return () => {
      live = false;
    };
  }, [me.id]);
  return value;
}

export function orgLabel(me, dir, orgId) {
  if (me.organization?.id === orgId) return me.organization.name;
  const org = dir?.orgById.get(orgId);
  return org ? org.name : null;
}

const memberKey = (m) => (m.kind === "user" ? `u:${m.user_id}` : `o:${m.organization_id}`);

export function MembersSection({ me, group, version = 0 }) {
  const [members, setMembers] = useState(null);
  const [problem, setProblem] = useState(null);
  const dir = useDirectory(me);
  const title = useRef(null);
  const load = () =>
    get(`groups/${group.id}/members`)
      .then((page) => setMembers(page.members))
      .catch(setProblem);
  // After a change: the roster again, and the caller's groups (their own role may have changed).
  const changed = async ({ focus = false } = {}) => {
    await load();
    loadGroups().catch(() => {});
    if (focus) title.current?.focus();
  };
  useEffect(() => {
    load();
  }, [group.id, version]);

  return html`<section aria-labelledby="members-title" class="manage-part">
    <h2 id="members-title" tabindex="-1" ref=${title}>${t("members.title")}</h2>
    <p class="hint">${t("members.lead")}</p>
    <${ProblemView} problem=${problem} />
    ${members === null
      ? html`<${Spinner} />`
      : members.length === 0
        ? html`<p>${t("members.none")}</p>`
        : html`<table class="data members">
            <caption class="visually-hidden">${t("members.title")}</caption>
            <thead><tr>
              <th scope="col">${t("members.name")}</th>
              <th scope="col">${t("members.kind")}</th>
              <th scope="col">${t("members.role")}</th>
              <th scope="col">${t("members.added")}</th>
              <th scope="col"><span class="visually-hidden">${t("members.actions")}</span></th>
            </tr></thead>
            <tbody>
              ${members.map(
                (m) => html`<${MemberRow} key=${memberKey(m)} me=${me} group=${group} member=${m}
                  dir=${dir} onChanged=${changed} />`,
              )}
            </tbody>
          </table>`}
    <${AddMember} me=${me} group=${group} dir=${dir} onAdded=${changed} />
  </section>`;
}

function memberBody(member, role) {
  return member.kind === "user"
    ? { user_id: member.user_id, role }
    : { organization_id: member.organization_id, role };
}

function MemberRow({ me, group, member, dir, onChanged }) {
  const [role, setRole] = useState(member.role);
  const [problem, setProblem] = useState(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => setRole(member.role), [member.role]);
  const org = orgLabel(me, dir, member.organization_id);
  const selectId = `role-${memberKey(member).replace(":", "-")}`;

  async function saveRole() {
    setBusy(true);
    setProblem(null);
    try {
      await post(`groups/${group.id}/members`, memberBody(member, role));
      await onChanged();
    } catch (error) {
      setProblem(error);
    } finally {
      setBusy(false);
    }
  }

  async function remove() {
    const path =
      member.kind === "user"
        ? `groups/${group.id}/members/${member.user_id}`
        : `groups/${group.id}/organizations/${member.organization_id}`;
    await del(path);
    // The row goes away with its buttons: focus moves to the section's heading.
    await onChanged({ focus: true });
  }

  return html`<tr data-member=${memberKey(member)}>
    <td><strong>${member.name}</strong>
      ${member.kind === "user" && org ? html`<br /><span class="hint">${org}</span>` : null}
      ${member.user_id === me.id ? html` <span class="tag">${t("members.you")}</span>` : null}</td>
    <td>${t(`members.kind.${member.kind}`)}</td>
    <td>
      <label class="visually-hidden" for=${selectId}>${t("members.roleOf", { name: member.name })}</label>
      <select id=${selectId} value=${role} onChange=${(e) => setRole(e.target.value)}>
        ${GROUP_ROLES.map((r) => html`<option value=${r}>${t(`group.role.${r}`)}</option>`)}
      </select>
      ${role !== member.role
        ? html` <button type="button" onClick=${saveRole} disabled=${busy}>${t("members.saveRole")}</button>`
        : null}
      <${ProblemView} problem=${problem} />
    </td>
    <td>${formatDate(member.added_at)}</td>
    <td>
      <${ConfirmAction} label=${t("members.remove")} danger=${true}
        question=${t(member.kind === "user" ? "members.removeUser" : "members.removeOrg", { name: member.name })}
        confirmLabel=${t("members.confirmRemove")} onConfirm=${remove} />
    </td>
  </tr>`;
}

function AddMember({ me, group, dir, onAdded }) {
  const staff = isStaff(me);
  const [kind, setKind] = useState("user");
  const [target, setTarget] = useState("");
  const [filter, setFilter] = useState("");
  const [role, setRole] = useState("member");
  const [error, setError] = useState(null);
  const [problem, setProblem] = useState(null);
  const [busy, setBusy] = useState(false);

  const words = filter.trim().toLowerCase();
  const userOptions = (dir?.users || []).filter(
    (u) => !words || `${u.display_name} ${u.username}`.toLowerCase().includes(words),
  );
  const orgOptions = (dir?.organizations || []).filter(
    (o) => !words || `${o.name} ${o.country || ""}`.toLowerCase().includes(words),
  );
  const chosenUser = kind === "user" ? dir?.userById.get(target) : null;
  const observerOnly = chosenUser?.role === "observer";

  async function submit(event) {
    event.preventDefault();
    setProblem(null);
    const id = target.trim();
    if (!id) {
      setError(t("form.required"));
      document.getElementById("add-target")?.focus();
      return;
    }
    if (!UUID.test(id)) {
      setError(t("members.badId"));
      document.getElementById("add-target")?.focus();
      return;
    }
    setError(null);
    setBusy(true);
    try {
      const body = kind === "user" ? { user_id: id, role } : { organization_id: id, role };
      await post(`groups/${group.id}/members`, body);
      setTarget("");
      setFilter("");
      setRole("member");
      await onAdded();
    } catch (e) {
      setProblem(e);
    } finally {
      setBusy(false);
    }
  }

  const picker = staff && dir;
  return html`<form class="panel-form add-member" onSubmit=${submit} novalidate aria-labelledby="add-member-title">
    <h3 id="add-member-title">${t("members.add")}</h3>
    <p class="hint">${staff ? t("members.addLeadStaff") : t("members.addLeadGroup")}</p>
    <fieldset class="radios">
      <legend>${t("members.addKind")}</legend>
      <label class="checkbox"><input type="radio" name="add-kind" value="user" checked=${kind === "user"}
        onChange=${() => { setKind("user"); setTarget(""); }} /> ${t("members.kind.user")}</label>
      <label class="checkbox"><input type="radio" name="add-kind" value="organization"
        checked=${kind === "organization"} onChange=${() => { setKind("organization"); setTarget(""); }} />
        ${t("members.kind.organization")}</label>
    </fieldset>
    ${kind === "organization" ? html`<p class="hint">${t("members.orgHint")}</p>` : null}
    <div class="form-grid">
      ${picker
        ? html`<div class="form-field">
              <label for="add-filter">${t("members.filter")}</label>
              <input id="add-filter" type="search" value=${filter} onInput=${(e) => setFilter(e.target.value)} />
            </div>
            <div class="form-field">
              <label for="add-target">${t(kind === "user" ? "members.pickUser" : "members.pickOrg")}</label>
              <select id="add-target" value=${target} aria-invalid=${error ? "true" : undefined}
                aria-describedby=${error ? "add-target-error" : undefined}
                onChange=${(e) => {
                  setTarget(e.target.value);
                  const user = dir.userById.get(e.target.value);
                  if (user?.role === "observer") setRole("observer");
                }}>
                <option value="">${t("members.choose")}</option>
                ${kind === "user"
                  ? userOptions.map(
                      (u) => html`<option value=${u.id} disabled=${u.disabled}>
                        ${u.display_name} (${u.username})${orgLabel(me, dir, u.organization_id) ? ` · ${orgLabel(me, dir, u.organization_id)}` : ""}${u.disabled ? ` · ${t("directory.disabled")}` : ""}</option>`,
                    )
                  : orgOptions.map(
                      (o) => html`<option value=${o.id}>${o.name}${o.country ? ` · ${o.country}` : ""}</option>`,
                    )}
              </select>
              <${FieldError} id="add-target-error" message=${error} />
            </div>`
        : html`<div class="form-field wide">
            <label for="add-target">${t(kind === "user" ? "members.userId" : "members.orgId")}</label>
            <p class="hint" id="add-target-hint">${t(kind === "user" ? "members.userIdHint" : "members.orgIdHint")}</p>
            <input id="add-target" value=${target} autocomplete="off" spellcheck="false"
              aria-invalid=${error ? "true" : undefined}
              aria-describedby=${error ? "add-target-error add-target-hint" : "add-target-hint"}
              onInput=${(e) => setTarget(e.target.value)} />
            <${FieldError} id="add-target-error" message=${error} />
          </div>`}
      <div class="form-field">
        <label for="add-role">${t("members.role")}</label>
        <select id="add-role" value=${role} onChange=${(e) => setRole(e.target.value)}
          aria-describedby="add-role-hint">
          ${GROUP_ROLES.map(
            (r) => html`<option value=${r} disabled=${observerOnly && r !== "observer"}>${t(`group.role.${r}`)}</option>`,
          )}
        </select>
        <p class="hint" id="add-role-hint">${t("members.roleHint")}</p>
      </div>
    </div>
    <${ProblemView} problem=${problem} fieldLabels=${{
      "body.user_id": t("members.userId"),
      "body.organization_id": t("members.orgId"),
      "body.role": t("members.role"),
    }} />
    <button type="submit" class="primary" disabled=${busy}>${t("members.addButton")}</button>
  </form>`;
}
