"""The Assistants v2 wire format (``beta.threads``): runs, run steps and their stream."""
