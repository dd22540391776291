"""Studio: a self-hosted, multi-user AI film studio."""

__version__ = "0.1.0"
