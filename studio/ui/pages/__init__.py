"""The pages that have not moved into their own packages yet.

`studio/ui/app.py` still imports `from studio.ui.pages import account, ...`;
the moved pages are re-exported here until the app shell imports their
packages (studio.ui.account, studio.ui.jams, studio.ui.workspaces) itself.
"""

from studio.ui import account

__all__ = ["account"]
