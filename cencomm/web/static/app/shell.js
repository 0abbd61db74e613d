// The signed-in page: a skip link, the banner with the connection state, the navigation, a
// notice line, flash alerts, and the screen of the current route.
import { useEffect } from "preact/hooks";
import { html } from "./html.js";
import { t } from "./i18n.js";
import { LanguageSwitch } from "./language.js";
import { live } from "./live.js";
import { session } from "./session.js";
import { app, loadGroups, unreadCount } from "./state.js";
import { useStore } from "./store.js";
import { useRoute } from "./router.js";
import { GroupsScreen } from "./groups.js";
import { TimelineScreen } from "./timeline.js";
import { DevicesScreen } from "./devices.js";
import { AlertsScreen, AlertScreen, NewAlertScreen, FlashBanner, startAlerts } from "./alerts.js";
import { SearchScreen } from "./search.js";
import { AuditScreen } from "./audit.js";
import { CrossGroupScreen, DashboardScreen, canSeeCrossGroup } from "./dashboard.js";
import { GroupManageScreen, ModerationScreen, moderationNavLinks } from "./moderation.js";
import { JoinScreen } from "./join_requests.js";
import { DirectoryScreen } from "./directory.js";
import { CorrelationsScreen } from "./correlations.js";
import { ShareRequestsScreen } from "./share_requests.js";
import { WatchesScreen, canWatch, startWatchNotices } from "./watches.js";

const SCREENS = {
  groups: GroupsScreen,
  group: TimelineScreen,
  alerts: AlertsScreen,
  alert: AlertScreen,
  "new-alert": NewAlertScreen,
  search: SearchScreen,
  devices: DevicesScreen,
  audit: AuditScreen,
  dashboard: DashboardScreen,
  analytics: CrossGroupScreen,
  // Moderation and the directory (part 2).
  moderation: ModerationScreen,
  "moderation-group": GroupManageScreen,
  join: JoinScreen,
  directory: DirectoryScreen,
  // Correlations, watch lists and share requests (issue 20).
  correlations: CorrelationsScreen,
  watches: WatchesScreen,
  "share-requests": ShareRequestsScreen,
};

function LiveBanner() {
  const status = useStore(app, (s) => s.live);
  if (status !== "offline") return null;
  return html`<div class="offline-banner" role="status" data-live="offline">
    ${t("live.offline")}
    <button type="button" class="link" onClick=${() => live.retry()}>${t("live.retry")}</button>
  </div>`;
}

function Notice() {
  const notice = useStore(app, (s) => s.notice);
  if (!notice) return null;
  return html`<div class=${`notice notice-${notice.kind}`} role="status">
    <span>${notice.text}</span>
    <button type="button" class="link" aria-label=${t("common.dismiss")}
      onClick=${() => app.set({ notice: null })}>×</button>
  </div>`;
}

function Nav({ me, route }) {
  const groups = useStore(app, (s) => s.groups);
  const alertsUnread = useStore(app, (s) => s.alerts.filter((a) => a.unread).length);
  const unread = groups.reduce((sum, g) => sum + unreadCount(me.id, g), 0);
  const link = (href, name, label, count) => html`<li>
    <a href=${href} aria-current=${route.name === name || route.name.startsWith(name.slice(0, -1)) ? "page" : undefined}>
      ${label}${count
        ? html` <span class="count" aria-hidden="true">${count}</span
            ><span class="visually-hidden">${t("nav.unread", { count })}</span>`
        : null}
    </a>
  </li>`;
  return html`<nav aria-label=${t("nav.label")}>
    <ul>
      ${link("#/groups", "groups", t("nav.groups"), unread)}
      ${link("#/alerts", "alerts", t("nav.alerts"), alertsUnread)}
      ${link("#/search", "search", t("nav.search"))}
      ${canSeeCrossGroup(me) ? link("#/analytics", "analytics", t("nav.analytics")) : null}
      ${canWatch(me) ? link("#/watches", "watches", t("nav.watches")) : null}
      ${link("#/share-requests", "share-requests", t("nav.shareRequests"))}
      ${link("#/devices", "devices", t("nav.devices"))}
      ${link("#/audit", "audit", t("nav.audit"))}
      ${moderationNavLinks(me, groups, link)}
    </ul>
  </nav>`;
}

export function Shell({ me, device }) {
  const route = useRoute();
  const status = useStore(app, (s) => s.live);
  useEffect(() => {
    loadGroups()
      .catch(() => {})
      .finally(() => live.start());
    const stopAlerts = startAlerts(me);
    const stopWatchNotices = startWatchNotices(me);
    return () => {
      live.stop();
      stopAlerts?.();
      stopWatchNotices?.();
    };
  }, [me.id]);
  const Screen = SCREENS[route.name];
  return html`<a class="skip" href="#main" onClick=${(e) => {
      e.preventDefault();
      document.getElementById("main")?.focus();
    }}>${t("nav.skip")}</a>
    <header class="banner">
      <a class="brand" href="#/groups">cencomm</a>
      <span class=${`live live-${status}`} data-live=${status}>${t(`live.${status}`)}</span>
      <span class="who">${me.display_name} · ${me.organization?.name || ""}</span>
      <${LanguageSwitch} />
      <button type="button" class="link" onClick=${() => session.logout()}>${t("nav.signOut")}</button>
    </header>
    <${Nav} me=${me} route=${route} />
    <${LiveBanner} />
    <${Notice} />
    <${FlashBanner} />
    <main id="main" tabindex="-1">
      ${Screen
        ? html`<${Screen} me=${me} device=${device} route=${route} />`
        : html`<section class="screen"><h1>${t("notFound.title")}</h1>
            <p><a href="#/groups">${t("notFound.back")}</a></p></section>`}
    </main>`;
}
