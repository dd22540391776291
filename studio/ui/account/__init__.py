"""The Account page: who I am, API keys, password, sign out."""

from studio.ui.account.page import AccountPage, build

__all__ = ["AccountPage", "build"]
