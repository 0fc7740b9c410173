"""The Assistants v2 wire objects (assistants, threads, messages) ⇄ what the
assistants service stores and what a model sees. Pure functions; a bad field is a
``SwitchyardError(INVALID_REQUEST, param=…)`` naming it."""
