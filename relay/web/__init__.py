"""The relay's web server: sync API, webhooks, blob URLs, status."""
