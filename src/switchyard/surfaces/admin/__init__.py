"""The administration API under ``/v1/organization/…``: admin keys only."""
