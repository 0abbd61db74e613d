"""`cencomm witness`: a C2SP tlog-witness any administration can run next to its own systems."""
