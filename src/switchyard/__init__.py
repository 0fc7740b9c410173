"""Switchyard: a self-hosted AI API platform."""

__version__ = "0.1.0"
