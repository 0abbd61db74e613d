"""Tests of live delivery: hub, writer and bus (no sockets, no database)."""
