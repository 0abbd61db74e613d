// Fragment routes (`/#/groups/<id>`, `/#/alerts/<id>`, …): the link in a notification e-mail works
// before and after sign-in, and the server only ever serves one page.
import { useEffect, useState } from "preact/hooks";

const ROUTES = [
  ["groups", /^\/?$/],
  ["groups", /^\/groups\/?$/],
  ["group", /^\/groups\/(?<groupId>[0-9a-f-]{36})\/?$/],
  ["dashboard", /^\/groups\/(?<groupId>[0-9a-f-]{36})\/dashboard\/?$/],
  ["correlations", /^\/groups\/(?<groupId>[0-9a-f-]{36})\/correlations\/?$/],
  ["watches", /^\/watches\/?$/],
  ["share-requests", /^\/share-requests\/?$/],
  ["analytics", /^\/analytics\/?$/],
  ["alerts", /^\/alerts\/?$/],
  ["alert", /^\/alerts\/(?<alertId>[0-9a-f-]{36})\/?$/],
  ["new-alert", /^\/alerts\/new\/?$/],
  ["search", /^\/search\/?$/],
  ["devices", /^\/devices\/?$/],
  ["audit", /^\/audit\/?$/],
  // Moderation and the directory (part 2).
  ["moderation", /^\/moderation\/?$/],
  ["moderation-group", /^\/groups\/(?<groupId>[0-9a-f-]{36})\/manage\/?$/],
  ["join", /^\/join\/?$/],
  ["directory", /^\/directory\/?$/],
];

export function parseRoute(hash = location.hash) {
  const [path, search = ""] = hash.replace(/^#/, "").split("?");
  for (const [name, pattern] of ROUTES) {
    const match = pattern.exec(path);
    if (match) return { name, params: { ...match.groups }, query: new URLSearchParams(search) };
  }
  return { name: "not-found", params: {}, query: new URLSearchParams(search) };
}

export function navigate(path) {
  location.hash = `#${path}`;
}

export function useRoute() {
  const [route, setRoute] = useState(parseRoute);
  useEffect(() => {
    const changed = () => setRoute(parseRoute());
    addEventListener("hashchange", changed);
    return () => removeEventListener("hashchange", changed);
  }, []);
  return route;
}
