"""The box's web server: the mail client's pages and, later, its JSON API."""
