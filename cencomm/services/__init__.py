"""Use cases: each method owns one transaction and its audit entry."""
