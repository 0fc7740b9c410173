"""The admin web console at ``/console``: server-rendered pages over the same services
the administration API uses, signed in with an admin key (or the master key)."""
