"""Django app of the file plugin."""
