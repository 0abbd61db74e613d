"""Offline verification: signed messages, audit proofs and evidence bundles, checked without the
server. Shared by the client SDK and `cencomm verify-export`; imports neither of them."""
