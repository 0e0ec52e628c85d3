"""Fake external services that tests start on loopback, so no test reaches the internet."""
