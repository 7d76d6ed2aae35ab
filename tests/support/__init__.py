"""Real components the tests start: each module here is a pytest plugin of fixtures."""
