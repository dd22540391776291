"""Argon2id password hashing."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# argon2id at OWASP's recommended floor (19 MiB, 2 passes, 1 lane: about 80 ms on
# this machine's kind of CPU) rather than the library's default (64 MiB x 4 lanes:
# about 0.4 s of both cores), which made every sign-in slow and let a burst of
# sign-ins (a jam's kickoff) take the web process's CPU. Stored hashes made with
# other parameters still verify, and are rehashed at the next sign-in.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Verified when an email has no account, so a miss costs as long as a hit.
_DUMMY_HASH = _hasher.hash("studio-timing-equaliser")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
