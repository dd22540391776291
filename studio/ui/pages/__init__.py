"""The Projects page, not moved into its own package yet (projects.py, its tab
modules and their HTML). The app shell imports the moved pages
(studio.ui.account, .generate, .jams, .workspaces) directly."""
