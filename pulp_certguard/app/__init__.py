"""Django app of the certguard plugin."""
