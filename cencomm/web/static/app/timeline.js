// One group's timeline: the newest page first, older pages on scrolling up, live messages as they
// come, each verified in this browser against its sender's published keys; replies as threads.
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { get, query } from "./api.js";
import { html } from "./html.js";
import { t } from "./i18n.js";
import { verifyEnvelope, decodePayload } from "./jws.js";
import { app, groupById, knownSeq, markRead, mergeMessages } from "./state.js";
import { useStore } from "./store.js";
import { Composer } from "./compose.js";
import { ExportButton } from "./evidence.js";
import { MessageBody } from "./message_body.js";
import { RelatedReports, hasIdentifiers } from "./correlations.js";
import { ManageLink, ModerationActions } from "./moderation.js";
import { SealBadges } from "./seals.js";
import { ProblemView, Spinner, Time, TlpBadge, VerifiedBadge, handlingClass, useFocusHeading } from "./ui.js";

const PAGE = 50;
const MAX_PAGE = 500;
const EMPTY = { messages: [], complete: false, loaded: false };

// Verification results by message id and JWS (a hidden message shown again verifies anew).
const verifications = new Map();

// Also used by search results.
export function useVerification(message) {
  const cacheKey = `${message.id}:${message.jws}`;
  const [result, setResult] = useState(() => verifications.get(cacheKey)?.result);
  useEffect(() => {
    // A message hidden (jws now null) or shown again must not keep the result of its old JWS.
    setResult(verifications.get(cacheKey)?.result);
    if (!message.jws) return;
    let entry = verifications.get(cacheKey);
    if (!entry) {
      entry = { promise: verifyEnvelope(message.jws, message.sender.id) };
      entry.promise.then((value) => {
        entry.result = value;
      });
      verifications.set(cacheKey, entry);
    }
    let live = true;
    entry.promise.then((value) => live && setResult(value));
    return () => {
      live = false;
    };
  }, [cacheKey]);
  return result;
}

function senderLine(message) {
  const { display_name: name, organization_name: organization } = message.sender;
  return organization ? `${name} · ${organization}` : name;
}

function Message({ message, group, replies, onReply, byId, target, canAsk }) {
  const verification = useVerification(message);
  // What is shown is what was signed: the JWS payload, never the server's copy of it.
  const payload = verification?.payload || (message.jws ? decodePayload(message.jws) : null);
  const parent = message.reply_to ? byId.get(message.reply_to) : null;
  return html`<li class=${`message ${handlingClass(message.hc)}`} data-seq=${message.seq}
    data-id=${message.id} data-typ=${message.typ}
    aria-current=${message.seq === target ? "true" : undefined}>
    <article aria-labelledby=${`m-${message.id}`}>
      <header class="message-head">
        <span class="sender" id=${`m-${message.id}`}>${senderLine(message)}</span>
        <${Time} iso=${message.created_at} />
        <${TlpBadge} code=${message.hc} />
        ${message.jws ? html`<${VerifiedBadge} verification=${verification} />` : null}
        <${SealBadges} message=${message} />
        <${ModerationActions} group=${group} message=${message} />
      </header>
      ${message.reply_to && !parent
        ? html`<p class="reply-note">${t("timeline.replyToEarlier")}</p>`
        : null}
      ${message.hidden
        ? html`<p class="hidden-note" data-hidden="true">
            ${t("timeline.hidden")}${message.hidden_reason
              ? html`${t("common.colon")}<em>${message.hidden_reason}</em>`
              : null}
          </p>`
        : null}
      ${payload ? html`<${MessageBody} payload=${payload} groupId=${group.id} />` : null}
      ${payload?.typ === "seizure" && hasIdentifiers(payload.body) && !message.hidden
        ? html`<${RelatedReports} message=${message} canAsk=${canAsk} />`
        : null}
      ${group.status === "active" && group.my_role !== "observer" && !message.hidden
        ? html`<button type="button" class="link reply" onClick=${() => onReply(message)}>
            ${t("timeline.reply")}</button>`
        : null}
    </article>
    ${replies?.length
      ? html`<ul class="thread" aria-label=${t("timeline.replies", { count: replies.length })}>
          ${replies.map(
            (reply) => html`<${Message} key=${reply.id} message=${reply} group=${group}
              onReply=${onReply} byId=${byId} target=${target} canAsk=${canAsk} />`,
          )}
        </ul>`
      : null}
  </li>`;
}

// Top-level messages in seq order, each followed by its replies (one level: a reply to a reply
// joins the thread of its root).
function threads(messages) {
  const byId = new Map(messages.map((m) => [m.id, m]));
  const rootOf = (m) => {
    let current = m;
    for (let depth = 0; depth < 50 && current.reply_to && byId.has(current.reply_to); depth += 1) {
      current = byId.get(current.reply_to);
    }
    return current;
  };
  const replies = new Map();
  const roots = [];
  for (const message of messages) {
    const root = rootOf(message);
    if (root === message) roots.push(message);
    else replies.set(root.id, [...(replies.get(root.id) || []), message]);
  }
  return { roots, replies, byId };
}

async function loadNewest(groupId) {
  const before = knownSeq(groupId) + 1;
  const page = await get(`groups/${groupId}/messages${query({ before, limit: PAGE })}`);
  mergeMessages(groupId, page.messages, { loaded: true, complete: page.messages.length < PAGE });
}

async function loadOlder(groupId, oldest, limit = PAGE) {
  const page = await get(`groups/${groupId}/messages${query({ before: oldest, limit })}`);
  mergeMessages(groupId, page.messages, { complete: page.messages.length < limit || oldest <= 1 });
}

export function TimelineScreen({ me, device, route }) {
  const groupId = route.params.groupId;
  const group = useStore(app, (s) => s.groups.find((g) => g.id === groupId) || null);
  const groupsLoaded = useStore(app, (s) => s.groupsLoaded);
  const timeline = useStore(app, (s) => s.timelines[groupId] || EMPTY);
  const [problem, setProblem] = useState(null);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const [replyTo, setReplyTo] = useState(null);
  const scroller = useRef(null);
  const sentinel = useRef(null);
  const anchor = useRef(null);
  const stickToBottom = useRef(true);
  const heading = useFocusHeading([groupId]);
  // `#/groups/<id>?seq=<n>` (a search result's link): that message, loaded and scrolled to.
  const target = Number(route.query.get("seq")) || null;

  useEffect(() => {
    setProblem(null);
    setReplyTo(null);
    stickToBottom.current = true;
    if (group && !timeline.loaded) loadNewest(groupId).catch(setProblem);
  }, [groupId, Boolean(group)]);

  const newest = timeline.messages.at(-1)?.seq || 0;
  useEffect(() => {
    if (newest && document.visibilityState === "visible") markRead(me.id, groupId, newest);
  }, [groupId, newest]);

  // Older history when the top comes into view; the scroll position is kept where the reader was.
  useEffect(() => {
    if (!sentinel.current || timeline.complete || !timeline.loaded) return undefined;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) older();
    });
    observer.observe(sentinel.current);
    return () => observer.disconnect();
  }, [groupId, timeline.complete, timeline.loaded, timeline.messages[0]?.seq]);

  useEffect(() => {
    if (!target || !timeline.loaded) return;
    const oldest = timeline.messages[0]?.seq;
    if (oldest && target < oldest && !timeline.complete) {
      older(Math.min(MAX_PAGE, oldest - target + PAGE));
      return;
    }
    const element = scroller.current?.querySelector(`li[data-seq="${target}"]`);
    if (!element) return;
    stickToBottom.current = false;
    element.scrollIntoView({ block: "center" });
  }, [groupId, target, timeline.loaded, timeline.messages[0]?.seq]);

  async function older(limit = PAGE) {
    if (loadingOlder || timeline.complete || !timeline.messages.length) return;
    setLoadingOlder(true);
    const box = scroller.current;
    anchor.current = box ? { height: box.scrollHeight, top: box.scrollTop } : null;
    try {
      await loadOlder(groupId, timeline.messages[0].seq, limit);
    } catch (error) {
      setProblem(error);
    } finally {
      setLoadingOlder(false);
    }
  }

  useLayoutEffect(() => {
    const box = scroller.current;
    if (!box) return;
    if (anchor.current) {
      box.scrollTop = anchor.current.top + (box.scrollHeight - anchor.current.height);
      anchor.current = null;
    } else if (stickToBottom.current) {
      box.scrollTop = box.scrollHeight;
    }
  }, [timeline.messages]);

  if (!group) {
    return groupsLoaded
      ? html`<section class="screen"><h1>${t("timeline.notFound")}</h1>
          <p><a href="#/groups">${t("notFound.back")}</a></p></section>`
      : html`<${Spinner} />`;
  }
  const { roots, replies, byId } = threads(timeline.messages);
  // Observers (their own role or in this group) may not ask another operation to share.
  const canAsk = me.role !== "observer" && group.my_role !== "observer";
  return html`<section class="screen timeline-screen" aria-labelledby="timeline-title">
    <header class="screen-head">
      <h1 id="timeline-title" tabindex="-1" ref=${heading}>
        <span class="group-code">${group.code}</span> ${group.name}
      </h1>
      <span class=${`status status-${group.status}`}>${t(`group.status.${group.status}`)}</span>
      <${ExportButton} me=${me} group=${group} />
      <a class="dash-link" href=${`#/groups/${groupId}/dashboard`}>${t("dash.link")}</a>
      <a class="correl-link" href=${`#/groups/${groupId}/correlations`}>${t("correl.link")}</a>
      <${ManageLink} group=${group} />
    </header>
    <${ProblemView} problem=${problem} />
    <div class="timeline" ref=${scroller} tabindex="0" role="region" aria-label=${t("timeline.label")}
      onScroll=${(e) => {
        const box = e.currentTarget;
        stickToBottom.current = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
      }}>
      ${timeline.complete
        ? html`<p class="timeline-start">${t("timeline.start")}</p>`
        : html`<div ref=${sentinel} class="sentinel">
            <button type="button" class="link" onClick=${() => older()} disabled=${loadingOlder}>
              ${loadingOlder ? t("common.loading") : t("timeline.older")}</button>
          </div>`}
      ${!timeline.loaded
        ? html`<${Spinner} />`
        : roots.length === 0
          ? html`<p class="empty">${t("timeline.empty")}</p>`
          : html`<ol class="messages" aria-live="polite" aria-relevant="additions">
              ${roots.map(
                (message) => html`<${Message} key=${message.id} message=${message} group=${group}
                  replies=${replies.get(message.id)} canAsk=${canAsk}
                  onReply=${setReplyTo} byId=${byId} target=${target} />`,
              )}
            </ol>`}
    </div>
    ${group.status !== "active"
      ? html`<p class="info">${t("timeline.notActive", { status: t(`group.status.${group.status}`) })}</p>`
      : group.my_role === "observer"
        ? html`<p class="info">${t("timeline.observer")}</p>`
        : html`<${Composer} group=${group} me=${me} device=${device} replyTo=${replyTo}
            onCancelReply=${() => setReplyTo(null)}
            onPosted=${() => {
              stickToBottom.current = true;
              setReplyTo(null);
            }} />`}
  </section>`;
}
