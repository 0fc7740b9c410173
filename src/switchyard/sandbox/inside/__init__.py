"""The scripts that run inside a sandbox, under the sandbox's own Python (Debian's
``python3``, standard library plus numpy, pandas and matplotlib). The server never imports
them: it copies them into a read-only directory the sandbox sees (``runtime.py``)."""
