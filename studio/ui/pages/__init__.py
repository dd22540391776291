"""The pages that have not moved into their own packages yet: Projects (with
its tab modules) and Generate. The app shell imports the moved ones
(studio.ui.account, studio.ui.jams, studio.ui.workspaces) directly."""
