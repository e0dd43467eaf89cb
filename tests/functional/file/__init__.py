"""End-to-end tests of the file plugin with the real pulp CLI."""
