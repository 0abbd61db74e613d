// The caller's groups with their status, the caller's role and unread counts.
import { html } from "./html.js";
import { formatDate, t } from "./i18n.js";
import { app, unreadCount } from "./state.js";
import { useStore } from "./store.js";
import { Spinner, useFocusHeading } from "./ui.js";

export function GroupsScreen({ me }) {
  const groups = useStore(app, (s) => s.groups);
  const loaded = useStore(app, (s) => s.groupsLoaded);
  const heading = useFocusHeading([]);
  return html`<section class="screen" aria-labelledby="groups-title">
    <h1 id="groups-title" tabindex="-1" ref=${heading}>${t("groups.title")}</h1>
    ${!loaded
      ? html`<${Spinner} />`
      : groups.length === 0
        ? html`<p>${t("groups.none")}</p>`
        : html`<ul class="group-list">
            ${groups.map((group) => {
              const unread = unreadCount(me.id, group);
              return html`<li class="group-card" data-group=${group.code}>
                <a href=${`#/groups/${group.id}`}>
                  <span class="group-code">${group.code}</span>
                  <span class="group-name">${group.name}</span>
                </a>
                <span class=${`status status-${group.status}`}>${t(`group.status.${group.status}`)}</span>
                ${group.my_role ? html`<span class="role">${t(`group.role.${group.my_role}`)}</span>` : null}
                ${group.ends_at ? html`<span class="dates">${t("groups.until", { date: formatDate(group.ends_at) })}</span>` : null}
                ${unread
                  ? html`<span class="count" data-unread=${unread}>${t("groups.unread", { count: unread })}</span>`
                  : null}
              </li>`;
            })}
          </ul>`}
  </section>`;
}
