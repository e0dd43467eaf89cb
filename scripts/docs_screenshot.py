"""Render the browsable API docs in headless Chromium: a PNG to look at, and the rendered DOM.

    python scripts/docs_screenshot.py http://127.0.0.1:24817/pulp/api/v3/docs/ docs.png

Swagger UI builds the page in JavaScript, so a plain HTTP fetch says nothing about what a reader
sees; Chromium runs it (with a virtual time budget for the document to load and render).
"""

import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
    "--virtual-time-budget=15000",
]


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    return None


def screenshot(url: str, png: Path, size: str = "1400,2200", timeout: float = 120) -> str:
    """Write a PNG of ``url`` as Chromium renders it; return the rendered DOM.

    ``--screenshot`` fires before Swagger UI has fetched the (large) document, while
    ``--dump-dom`` waits for the page's network to settle; so the page is rendered once with
    ``--dump-dom``, frozen (scripts removed, assets still loaded from the server through
    <base href>) and that snapshot is photographed.
    """
    binary = chromium()
    if binary is None:
        raise RuntimeError("chromium is not installed (apt-get install -y chromium)")
    dom = rendered_dom(url, timeout=timeout)
    parts = urlsplit(url)
    frozen = re.sub(r"<script\b.*?</script>", "", dom, flags=re.S | re.I)
    frozen = frozen.replace("<head>", f'<head><base href="{parts.scheme}://{parts.netloc}/">', 1)
    snapshot = png.with_suffix(".html")
    snapshot.write_text(frozen)
    subprocess.run(
        [binary, *FLAGS, f"--window-size={size}", f"--screenshot={png}", snapshot.as_uri()],
        check=True,
        capture_output=True,
        timeout=timeout,
    )
    return dom


def rendered_dom(url: str, timeout: float = 120) -> str:
    """The page's DOM after its scripts ran."""
    binary = chromium()
    if binary is None:
        raise RuntimeError("chromium is not installed (apt-get install -y chromium)")
    res = subprocess.run(
        [binary, *FLAGS, "--window-size=1400,20000", "--dump-dom", url],
        check=True,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return res.stdout


if __name__ == "__main__":
    target, out = sys.argv[1], Path(sys.argv[2] if len(sys.argv) > 2 else "docs.png")
    screenshot(target, out)
    print(f"wrote {out}")
