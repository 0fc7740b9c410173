"""The agent loop shared by every API that runs built-in tools around a model."""
