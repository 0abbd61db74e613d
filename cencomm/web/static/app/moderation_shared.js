// What the moderation screens share: who may moderate, the lifecycle, the rules names follow,
// field error lines, and reading every page of a directory list.
import { get } from "./api.js";
import { html } from "./html.js";
import { t } from "./i18n.js";
import { app } from "./state.js";

// Global admins and moderators (the Secretariat) see and moderate every group.
export const isStaff = (me) => me.role === "admin" || me.role === "moderator";

export const canModerate = (me, group) => Boolean(group) && (isStaff(me) || group.my_role === "moderator");

// The lifecycle: planned → active → closed → archived; closed → active reopens.
export const NEXT_STATUS = {
  planned: ["active"],
  active: ["closed"],
  closed: ["active", "archived"],
  archived: [],
};

export const CODE_PATTERN = /^[A-Z0-9][A-Z0-9-]{2,31}$/;
// Names refuse invisible and text-direction characters (as the server does) and control characters.
export const INVISIBLE = /[\p{Cf}\p{Zl}\p{Zp}\p{Cs}\p{Cc}]/u;

export function replaceGroup(group) {
  app.set((state) => ({
    groups: state.groups.some((g) => g.id === group.id)
      ? state.groups.map((g) => (g.id === group.id ? group : g))
      : [...state.groups, group],
  }));
}

export function nameError(value, { required = true, max = 200 } = {}) {
  const text = value.trim();
  if (!text) return required ? t("form.required") : null;
  if (text.length > max) return t("form.tooLong", { max });
  if (INVISIBLE.test(text)) return t("form.invisible");
  return null;
}

// A field's own error line, tied to its input by id for screen readers.
export function FieldError({ id, message }) {
  return message ? html`<p class="field-error" id=${id}>${message}</p>` : null;
}

// Every page of a directory list (`users`, `organizations`), up to `max` pages of 500.
export async function loadAll(path, key, max = 10) {
  const items = [];
  let after = null;
  let pages = 0;
  do {
    const page = await get(`${path}${after ? `?limit=500&after=${encodeURIComponent(after)}` : "?limit=500"}`);
    items.push(...page[key]);
    after = page.next;
    pages += 1;
  } while (after && pages < max);
  return items;
}
