"""aiohttp downloaders that validate size and checksums while streaming."""
