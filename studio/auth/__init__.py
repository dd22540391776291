"""Web sign-in: session cookies, the login page and outside identity providers."""
