"""OpenAI's Administration API (``/v1/organization/...``) and Switchyard's extensions
in the same style. ``common.py`` is what every administration module shares."""
