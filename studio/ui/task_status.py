"""The CSS class of each task status (Runway's words), shared by the pages that list jobs."""

STATUS_CLASS = {
    "PENDING": "todo",
    "THROTTLED": "review",
    "RUNNING": "progress",
    "SUCCEEDED": "approved",
    "FAILED": "failed",
    "CANCELLED": "omitted",
}
