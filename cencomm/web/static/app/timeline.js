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
import { MessageBody } from "./message_body.js";
import { ProblemView, Spinner, Time, TlpBadge, VerifiedBadge, tlpClass, useFocusHeading } from "./ui.js";

const PAGE = 50;
const EMPTY = { messages: [], complete: false, loaded: false };

// Verification results by message id and JWS (a hidden message shown again verifies anew).
const verifications = new Map();

function useVerification(message) {
  const cacheKey = `${message.id}:${message.jws}`;
  const [result, setResult] = useState(() => verifications.get(cacheKey)?.result);
  useEffect(() => {
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

function senderLine(message, organizations) {
  const org = organizations?.get(message.sender.organization_id);
  return org ? `${message.sender.display_name} · ${org}` : message.sender.display_name;
}

function Message({ message, group, organizations, replies, onReply, byId }) {
  const verification = useVerification(message);
  // What is shown is what was signed: the JWS payload, never the server's copy of it.
  const payload = verification?.payload || (message.jws ? decodePayload(message.jws) : null);
  const parent = message.reply_to ? byId.get(message.reply_to) : null;
  return html`<li class=${`message ${tlpClass(message.hc)}`} data-seq=${message.seq}
    data-id=${message.id} data-typ=${message.typ}>
    <article aria-labelledby=${`m-${message.id}`}>
      <header class="message-head">
        <span class="sender" id=${`m-${message.id}`}>${senderLine(message, organizations)}</span>
        <${Time} iso=${message.created_at} />
        <${TlpBadge} code=${message.hc} />
        ${message.jws ? html`<${VerifiedBadge} verification=${verification} />` : null}
      </header>
      ${message.reply_to && !parent
        ? html`<p class="reply-note">${t("timeline.replyToEarlier")}</p>`
        : null}
      ${message.hidden
        ? html`<p class="hidden-note" data-hidden="true">
            ${t("timeline.hidden")}${message.hidden_reason ? html`: <em>${message.hidden_reason}</em>` : null}
          </p>`
        : null}
      ${payload ? html`<${MessageBody} payload=${payload} groupId=${group.id} />` : null}
      ${group.status === "active" && group.my_role !== "observer" && !message.hidden
        ? html`<button type="button" class="link reply" onClick=${() => onReply(message)}>
            ${t("timeline.reply")}</button>`
        : null}
    </article>
    ${replies?.length
      ? html`<ul class="thread" aria-label=${t("timeline.replies", { count: replies.length })}>
          ${replies.map(
            (reply) => html`<${Message} key=${reply.id} message=${reply} group=${group}
              organizations=${organizations} onReply=${onReply} byId=${byId} />`,
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

async function loadOlder(groupId, oldest) {
  const page = await get(`groups/${groupId}/messages${query({ before: oldest, limit: PAGE })}`);
  mergeMessages(groupId, page.messages, { complete: page.messages.length < PAGE || oldest <= 1 });
}

// Organisation names for sender lines: the directory is not readable by everyone, so names come
// from what this page can see (its own organisation); others show the sender alone.
function useOrganizations(me) {
  return new Map(me.organization ? [[me.organization.id, me.organization.name]] : []);
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
  const organizations = useOrganizations(me);

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

  async function older() {
    if (loadingOlder || timeline.complete || !timeline.messages.length) return;
    setLoadingOlder(true);
    const box = scroller.current;
    anchor.current = box ? { height: box.scrollHeight, top: box.scrollTop } : null;
    try {
      await loadOlder(groupId, timeline.messages[0].seq);
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
  return html`<section class="screen timeline-screen" aria-labelledby="timeline-title">
    <header class="screen-head">
      <h1 id="timeline-title" tabindex="-1" ref=${heading}>
        <span class="group-code">${group.code}</span> ${group.name}
      </h1>
      <span class=${`status status-${group.status}`}>${t(`group.status.${group.status}`)}</span>
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
            <button type="button" class="link" onClick=${older} disabled=${loadingOlder}>
              ${loadingOlder ? t("common.loading") : t("timeline.older")}</button>
          </div>`}
      ${!timeline.loaded
        ? html`<${Spinner} />`
        : roots.length === 0
          ? html`<p class="empty">${t("timeline.empty")}</p>`
          : html`<ol class="messages" aria-live="polite" aria-relevant="additions">
              ${roots.map(
                (message) => html`<${Message} key=${message.id} message=${message} group=${group}
                  organizations=${organizations} replies=${replies.get(message.id)}
                  onReply=${setReplyTo} byId=${byId} />`,
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
