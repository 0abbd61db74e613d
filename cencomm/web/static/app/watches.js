// Watch lists (`/#/watches`): selectors an analyst or officer keeps (an exact identifier, a
// container or document prefix, a party name) with a reason and an expiry; each new report that
// matches raises a `watch.match` live frame (and an e-mail), shown as a notice on any screen and
// here under the watch.
import { useEffect, useState } from "preact/hooks";
import { del, get, post, query } from "./api.js";
import { html } from "./html.js";
import { formatDate, t } from "./i18n.js";
import { live } from "./live.js";
import { showNotice } from "./state.js";
import { ConfirmAction } from "./confirm.js";
import { IDENTIFIER_KINDS, IdentifierLabel, kindName } from "./correlations.js";
import { FieldError } from "./moderation_shared.js";
import { ProblemView, Spinner, Time, useFocusHeading } from "./ui.js";

const WATCH_ROLES = new Set(["admin", "moderator", "analyst", "officer"]);
const PREFIX_KINDS = new Set(["container", "document"]);
const MAX_REASON = 500;
const DEFAULT_DAYS = 90;
const MAX_ACTIVE = 100; // active watches per user: one page holds them all

export const canWatch = (me) => WATCH_ROLES.has(me.role);

// From sign-in to sign-out, whatever the screen: a notice for each `watch.match` frame.
export function startWatchNotices(me) {
  if (!canWatch(me)) return null;
  return live.on("watch.match", (frame) => {
    showNotice("info", t(frame.elsewhere ? "watch.matchElsewhere" : "watch.matchHere"));
  });
}

const inDays = (days) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

function Matches({ watch }) {
  const [matches, setMatches] = useState(null);
  const [problem, setProblem] = useState(null);
  useEffect(() => {
    get(`watches/${watch.id}/matches${query({ limit: 50 })}`)
      .then((page) => setMatches(page.matches))
      .catch(setProblem);
  }, [watch.id, watch.matchCount]);
  if (problem) return html`<${ProblemView} problem=${problem} />`;
  if (!matches) return html`<${Spinner} />`;
  if (!matches.length) return html`<p class="empty">${t("watch.noMatches")}</p>`;
  return html`<ul class="watch-matches">
    ${matches.map(
      (m) => html`<li data-elsewhere=${m.elsewhere ? "true" : "false"}>
        <${Time} iso=${m.matched_at} />${" · "}<${IdentifierLabel} identifier=${m.identifier} />
        ${" · "}${m.elsewhere
          ? t("watch.elsewhere")
          : html`<a href=${`#/groups/${m.group_id}`}>${t("watch.openReport")}</a>`}
      </li>`,
    )}
  </ul>`;
}

function NewWatch({ onCreated }) {
  const [form, setForm] = useState({
    kind: "container", match: "exact", value: "", reason: "", expires: inDays(DEFAULT_DAYS),
  }); // prettier-ignore
  const [errors, setErrors] = useState({});
  const [problem, setProblem] = useState(null);
  const [busy, setBusy] = useState(false);
  const set = (name) => (e) => setForm((f) => ({ ...f, [name]: e.target.value }));

  async function submit(event) {
    event.preventDefault();
    const found = {};
    if (!form.value.trim()) found.value = t("form.required");
    if (!form.reason.trim()) found.reason = t("form.required");
    if (!form.expires) found.expires = t("form.required");
    setErrors(found);
    if (Object.keys(found).length) return;
    setBusy(true);
    setProblem(null);
    try {
      await post("watches", {
        kind: form.kind,
        match: PREFIX_KINDS.has(form.kind) ? form.match : "exact",
        value: form.value.trim(),
        reason: form.reason.trim(),
        expires_at: `${form.expires}T23:59:59Z`,
      });
      setForm((f) => ({ ...f, value: "", reason: "" }));
      showNotice("ok", t("watch.created"));
      onCreated();
    } catch (error) {
      setProblem(error);
    } finally {
      setBusy(false);
    }
  }

  return html`<form class="stack watch-form" onSubmit=${submit} novalidate
    aria-labelledby="watch-new-title">
    <h2 id="watch-new-title">${t("watch.new")}</h2>
    <label for="watch-kind">${t("watch.kind")}</label>
    <select id="watch-kind" value=${form.kind} onChange=${set("kind")}>
      ${IDENTIFIER_KINDS.map((k) => html`<option value=${k}>${kindName(k)}</option>`)}
    </select>
    ${PREFIX_KINDS.has(form.kind)
      ? html`<label for="watch-match">${t("watch.match")}</label>
          <select id="watch-match" value=${form.match} onChange=${set("match")}>
            <option value="exact">${t("watch.match.exact")}</option>
            <option value="prefix">${t("watch.match.prefix")}</option>
          </select>`
      : null}
    <label for="watch-value">${t("watch.value")}</label>
    <input id="watch-value" value=${form.value} maxlength="200" onInput=${set("value")}
      aria-invalid=${errors.value ? "true" : undefined}
      aria-describedby=${errors.value ? "watch-value-error" : undefined} />
    <${FieldError} id="watch-value-error" message=${errors.value} />
    <label for="watch-reason">${t("watch.reason")}</label>
    <textarea id="watch-reason" rows="2" maxlength=${MAX_REASON} value=${form.reason}
      onInput=${set("reason")} aria-invalid=${errors.reason ? "true" : undefined}
      aria-describedby=${errors.reason ? "watch-reason-error" : undefined}></textarea>
    <${FieldError} id="watch-reason-error" message=${errors.reason} />
    <label for="watch-expires">${t("watch.expires")}</label>
    <input id="watch-expires" type="date" value=${form.expires} min=${inDays(1)} max=${inDays(365)}
      onInput=${set("expires")} aria-invalid=${errors.expires ? "true" : undefined}
      aria-describedby=${errors.expires ? "watch-expires-error" : undefined} />
    <${FieldError} id="watch-expires-error" message=${errors.expires} />
    <${ProblemView} problem=${problem} fieldLabels=${{
      "body.kind": t("watch.kind"),
      "body.match": t("watch.match"),
      "body.value": t("watch.value"),
      "body.reason": t("watch.reason"),
      "body.expires_at": t("watch.expires"),
    }} />
    <button type="submit" class="primary" disabled=${busy}>${t("watch.add")}</button>
  </form>`;
}

export function WatchesScreen({ me }) {
  const [watches, setWatches] = useState(null);
  const [problem, setProblem] = useState(null);
  const heading = useFocusHeading([]);
  const allowed = canWatch(me);
  const load = () =>
    get(`watches${query({ active: true, limit: MAX_ACTIVE })}`)
      .then((page) => {
        setWatches(page.watches);
        setProblem(null);
      })
      .catch(setProblem);
  useEffect(() => {
    if (!allowed) return undefined; // observers: 403 on every watch route
    load();
    // The notice itself is the shell's (startWatchNotices); here the watch's matches are read again.
    return live.on("watch.match", (frame) => {
      setWatches((list) =>
        list?.map((w) => (w.id === frame.watch_id ? { ...w, matchCount: (w.matchCount || 0) + 1 } : w)),
      );
    });
  }, [allowed]);
  if (!allowed) {
    return html`<section class="screen"><h1>${t("watch.title")}</h1><p>${t("watch.notAllowed")}</p></section>`;
  }
  return html`<section class="screen watches" aria-labelledby="watch-title">
    <h1 id="watch-title" tabindex="-1" ref=${heading}>${t("watch.title")}</h1>
    <p>${t("watch.lead")}</p>
    <${NewWatch} onCreated=${load} />
    <h2>${t("watch.active")}</h2>
    <${ProblemView} problem=${problem} />
    ${watches === null && !problem ? html`<${Spinner} />` : null}
    ${watches && !watches.length ? html`<p class="empty">${t("watch.none")}</p>` : null}
    <ul class="watch-list">
      ${(watches || []).map(
        (w) => html`<li class="watch" data-watch=${w.id}>
          <p><${IdentifierLabel} identifier=${w} />
            ${w.match === "prefix" ? html` <em>${t("watch.match.prefix")}</em>` : null}
            ${w.value !== w.label
              ? html` (<span class="watch-value">${t("watch.normalForm", { value: w.value })}</span>)`
              : null}
            ${" · "}${t("watch.until", { date: formatDate(w.expires_at) })}</p>
          <p class="watch-reason">${w.reason}</p>
          <details><summary>${t("watch.matches")}</summary><${Matches} watch=${w} /></details>
          <${ConfirmAction} label=${t("watch.delete")} danger=${true}
            question=${t("watch.deleteQuestion", { label: w.label })}
            confirmLabel=${t("watch.delete")}
            onConfirm=${async () => {
              await del(`watches/${w.id}`);
              await load();
            }} />
        </li>`,
      )}
    </ul>
  </section>`;
}
