"""The Realtime API's sessions: text turns on any chat model, audio turns as speech to
text, then the model, then text to speech, each stage streamed (docs/realtime.md)."""
