"""The canonical model: items, requests, events, usage and errors."""
