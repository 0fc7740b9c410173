"""The Responses engine: the agent loop, stored state, background runs."""
