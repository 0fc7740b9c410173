"""The Assistants API's objects (assistants, threads, messages) behind one service
(``service.AssistantsService``); see docs/assistants.md."""
