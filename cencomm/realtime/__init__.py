"""Live delivery: fan-out hub, socket writer and cross-process bus (no sockets, no database).

How the pieces fit, for `web/ws.py` and the services:

1. A service commits, then `await bus.publish(event.to_notice())` (`bus.py`).
2. Every process's bus listener decodes the notice and calls one dispatcher (web/services
   layer), which resolves the local targets, reads content once per process and queues
   frames without waiting (`hub.py`)::

       async def on_event(event: LiveEvent) -> None:
           match event:
               case MessagePosted():
                   subs = hub.subscriptions_for_group(event.group_id)
                   if subs:
                       hub.deliver(subs, event.to_frame(await load_message_json(event)))
               case MessageHidden():
                   hub.deliver_to_group(event.group_id, event.to_frame())
               case AlertRaised():
                   if hub.connected_users(event.recipient_ids):
                       frame = event.to_frame(await load_alert_json(event.alert_id))
                       hub.deliver(event.recipient_ids, frame)
               case AlertAcknowledged():
                   hub.deliver(await ack_watchers(event.alert_id), event.to_frame())
               case AlertOverdue():
                   hub.deliver(event.notify_ids, event.to_frame())
               case MembershipChanged(change=MembershipChange.REMOVED):
                   hub.unfollow_group(event.user_ids, event.group_id)  # queued frames too
                   hub.deliver(event.user_ids, event.to_frame())
               case MembershipChanged():
                   hub.follow_group(event.user_ids, event.group_id)
                   hub.deliver(event.user_ids, event.to_frame())
               case SessionRevoked():
                   hub.close_sessions(event.session_ids)  # 4401

3. Each socket: after the auth frame, `sub = hub.subscribe(user, session, org)` (refuse with
   `TooManyConnections` / `HubClosed`), `sub.follow(g)` for each readable group, then one
   reader task (`resume` → `sub.follow(g, after_seq)` per group it may read) and one writer
   task `code = await run_writer(sub, send, load_messages)` (`writer.py`), then close the
   socket with `code`; `hub.unsubscribe(sub)` in a `finally`. On shutdown `hub.close_all()`
   makes every writer return 1001.
"""
