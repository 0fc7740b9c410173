"""One module per console page family."""
