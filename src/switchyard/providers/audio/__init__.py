"""Speech backends: the embedded Whisper (faster-whisper) and voice (hibari), audio decoding
and encoding with PyAV, and the relay to OpenAI-compatible upstreams."""
