"""Containers (``/v1/containers``): sandbox sessions of an owner, with their files."""
