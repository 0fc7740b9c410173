"""Batches: OpenAI's /v1/batches and Anthropic's Message Batches, run line by line as durable jobs."""
