"""Accounts from an outside identity provider, keyed by (issuer, subject)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from studio.accounts import audit, service
from studio.accounts.models import OAuthIdentity, User
from studio.db.base import utcnow
from studio.errors import Conflict, InvalidInput


def sign_in_with_identity(
    session: Session,
    *,
    issuer: str,
    subject: str,
    email: str | None,
    email_verified: bool,
    display_name: str | None,
) -> User:
    """The user for this identity; the first sign-in creates the account.

    An existing local account is linked only when the provider vouches for
    the email (email_verified): otherwise anyone could register a provider
    account with a victim's address and take their studio account over.
    """
    if not issuer or not subject:
        raise InvalidInput("The identity provider sent no subject.", code="oidc_no_subject")
    identity = session.scalar(
        select(OAuthIdentity).where(
            OAuthIdentity.issuer == issuer, OAuthIdentity.subject == subject
        )
    )
    if identity is not None:
        user = session.get(User, identity.user_id)
        assert user is not None
    else:
        if not email:
            raise InvalidInput(
                "Your identity provider did not share an email address; allow it and try again.",
                code="oidc_no_email",
            )
        user = service.get_user_by_email(session, email)
        if user is not None and not email_verified:
            raise Conflict(
                f"An account with {email} exists already. Sign in with your password; "
                "the provider has not verified that this email is yours.",
                code="oidc_email_unverified",
            )
        if user is None:
            user = service.create_user(
                session, email=email, display_name=(display_name or "")[:80] or None
            )
        session.add(OAuthIdentity(user_id=user.id, issuer=issuer, subject=subject, email=email))
        audit.record(
            session,
            "identity.linked",
            actor_user_id=user.id,
            target=f"user:{user.id}",
            issuer=issuer,
        )
    user.last_login_at = utcnow()
    session.flush()
    return user
