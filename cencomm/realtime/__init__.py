"""Live delivery without sockets or a database: the fan-out hub, the socket writer loop, the bus.

- `bus.py` carries small notices between processes (in-process or Redis pub/sub), never content.
- `hub.py` keeps one bounded queue per connected socket of this process; delivering never waits,
  and a slow consumer is closed with 4408.
- `writer.py` is each socket's writer loop: frames in seq order per group, no gap, no duplicate.

The dispatcher that turns bus notices into frames, deciding per subscriber with HTTP's read
policy, is `cencomm.web.live`; the WebSocket endpoint that subscribes, resumes and runs the
writer is `cencomm.web.ws` (frame types in docs/websocket.md).
"""
