"""The pages that have not moved into their own packages yet.

`studio/ui/app.py` still imports `from studio.ui.pages import account, jams,
workspaces, ...`; the moved pages are re-exported here until the app shell
imports their packages (studio.ui.account, studio.ui.jams,
studio.ui.workspaces) itself. Delete these re-exports then.
"""

from studio.ui import account, jams, workspaces

__all__ = ["account", "jams", "workspaces"]
