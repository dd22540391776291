"""Signed, expiring media URLs: /media/<asset id>?exp=<unix time>&sig=<hmac>.

Pure: the secret and the clock come in as arguments.
"""

from __future__ import annotations

import hashlib
import hmac


def signature(asset_id: int, expires: int, secret: str) -> str:
    message = f"media:{asset_id}:{expires}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:32]


def signed_path(asset_id: int, secret: str, *, now: float, ttl_seconds: int) -> str:
    expires = int(now) + ttl_seconds
    return f"/media/{asset_id}?exp={expires}&sig={signature(asset_id, expires, secret)}"


def verify(asset_id: int, expires: int, sig: str, secret: str, *, now: float) -> bool:
    """Constant-time check of a link's signature. Compared as bytes: compare_digest
    refuses str with non-ASCII characters (a TypeError, which was a 500)."""
    if expires < now:
        return False
    given = sig.encode("utf-8", "surrogatepass")
    return hmac.compare_digest(signature(asset_id, expires, secret).encode(), given)


def part_signature(upload_id: str, number: int, expires: int, secret: str) -> str:
    """Signs one part PUT of a direct upload served by the web app (the local backend)."""
    message = f"upload-part:{upload_id}:{number}:{expires}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:32]


def signed_part_path(upload_id: str, number: int, secret: str, *, now: float, ttl: int) -> str:
    expires = int(now) + ttl
    sig = part_signature(upload_id, number, expires, secret)
    return f"/uploads/{upload_id}/parts/{number}?exp={expires}&sig={sig}"


def verify_part(
    upload_id: str, number: int, expires: int, sig: str, secret: str, *, now: float
) -> bool:
    if expires < now:
        return False
    given = sig.encode("utf-8", "surrogatepass")
    return hmac.compare_digest(part_signature(upload_id, number, expires, secret).encode(), given)
