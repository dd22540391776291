"""The Workspaces page: a team's home (projects, recent takes, what needs
review, activity) and its members. See page.py."""

from studio.ui.workspaces.page import WorkspacesPage, build

__all__ = ["WorkspacesPage", "build"]
