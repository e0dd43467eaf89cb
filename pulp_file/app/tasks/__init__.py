"""Task bodies of the file plugin (dispatched by its viewsets)."""
