// Building, signing and sending envelopes. A send that fails on the network is retried with the
// identical JWS (same cid, same iat), which the server answers with the original: never twice.
import { post } from "./api.js";
import { newCid, nowSeconds, signEnvelope } from "./jws.js";

export function buildPayload({ me, typ, hc, body, groupId, att, replyTo, to }) {
  const payload = { v: 1, typ, cid: newCid(), sub: me.id, iat: nowSeconds(), hc, body };
  if (groupId) payload.grp = groupId;
  if (att?.length) payload.att = att;
  if (replyTo) payload.reply_to = replyTo;
  if (to) payload.to = to;
  return payload;
}

// One outbox per composer: `send(draft)` signs a new envelope unless the previous attempt of the
// very same draft failed without an answer (then it resends that JWS).
export function createOutbox(path) {
  let pending = null; // {draftKey, jws}
  return {
    async send(key, draft, build) {
      const draftKey = JSON.stringify(draft);
      if (!pending || pending.draftKey !== draftKey) {
        pending = { draftKey, jws: await signEnvelope(key, build()) };
      }
      try {
        const answer = await post(path, { jws: pending.jws });
        pending = null;
        return answer;
      } catch (error) {
        // An answer from the server (4xx) means this JWS will never be taken: sign anew next time.
        if (error.status) pending = null;
        throw error;
      }
    },
  };
}
