"""The database failing, named for layers that import no SQLAlchemy (the operator's commands).

`commands` turns these into a one-line reason for the operator; docs/design.md keeps SQLAlchemy
out of it, so the class it catches is named here, where SQL is spoken.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError

# What a driver raises through SQLAlchemy: unreachable server, refused login, missing database,
# a lost connection, a locked SQLite file. SQLAlchemy's OperationalError is one of these.
DatabaseFailure = DBAPIError
