"""Direct uploads: browsers and API clients put files straight into the media store."""
