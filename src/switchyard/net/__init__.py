"""Reaching out: the egress policy for URLs that clients supply, and an HTTP transport that obeys it."""
