"""Sign-in tests: local accounts and outside identity providers."""
