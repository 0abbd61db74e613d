"""cencomm: secure intelligence exchange for customs enforcement."""

__version__ = "0.1.0"
