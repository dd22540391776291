"""Input rules shared by every entry point (UI, API, CLI)."""

from __future__ import annotations

import re

from studio.accounts.models import EMAIL_MAX, NAME_MAX, Role
from studio.errors import InvalidInput

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")
PASSWORD_MIN = 10
PASSWORD_MAX = 256


def email(value: str | None) -> str:
    text = (value or "").strip().lower()
    if not text:
        raise InvalidInput("Enter an email address.", code="email_required")
    if len(text) > EMAIL_MAX or not _EMAIL.match(text):
        raise InvalidInput(f"'{text[:60]}' is not a valid email address.", code="invalid_email")
    return text


def name(value: str | None, what: str = "Name") -> str:
    text = " ".join((value or "").split())
    if not text:
        raise InvalidInput(f"{what} cannot be empty.", code="name_required")
    if len(text) > NAME_MAX:
        raise InvalidInput(
            f"{what} is {len(text)} characters long; the limit is {NAME_MAX}.", code="name_too_long"
        )
    return text


def slug(value: str) -> str:
    text = value.strip().lower()
    if not _SLUG.match(text):
        raise InvalidInput(
            "A workspace slug is 1-40 lowercase letters, digits and dashes, "
            "starting and ending with a letter or digit.",
            code="invalid_slug",
        )
    return text


def slugify(text: str) -> str:
    cleaned = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40].strip("-")
    return cleaned or "workspace"


def password(value: str | None) -> str:
    text = value or ""
    if len(text) < PASSWORD_MIN:
        raise InvalidInput(
            f"Use a password of at least {PASSWORD_MIN} characters.", code="weak_password"
        )
    if len(text) > PASSWORD_MAX:
        raise InvalidInput(
            f"Passwords are limited to {PASSWORD_MAX} characters.", code="password_too_long"
        )
    return text


def role(value: str | Role | None) -> Role:
    if isinstance(value, Role):
        return value
    try:
        return Role((value or "").strip().lower())
    except ValueError:
        allowed = ", ".join(r.value for r in Role)
        raise InvalidInput(f"Role must be one of: {allowed}.", code="invalid_role") from None
