"""Persistence: engine, tables and one store per aggregate."""
