"""OpenAI's Administration API (``/v1/organization/...``) and Switchyard's extensions
in the same style (deployments, key settings), for the master key and admin keys only.
``common.py`` is what every administration module shares; ``routes.py`` lists them all."""
