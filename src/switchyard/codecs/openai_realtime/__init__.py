"""The Realtime API's GA event protocol: the session configuration, client events in,
conversation items, server events out, and a response's events as an explicit state
machine over canonical events. Pure: no I/O, no clock (ids and times are passed in)."""
