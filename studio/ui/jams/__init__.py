"""The Jams page: the list, a jam's page, the submission form, the judge
console, the organizer dashboard and settings, results with the gallery and
the audience vote, and a new jam (studio admins). See page.py."""

from studio.ui.jams.page import JamsPage, build

__all__ = ["JamsPage", "build"]
