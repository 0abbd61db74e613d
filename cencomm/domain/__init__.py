"""Plain domain rules: standard library only, no I/O."""
