"""Thin HTTP handlers, one module per feature."""
