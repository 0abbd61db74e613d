"""Cryptography: keys, signatures, tokens, hashing."""
