"""The docs page as a reader sees it: Swagger UI rendered by headless Chromium shows our texts.

Writes the screenshot to ``$PULP_TEST_ROOT/docs-page.png`` (look at it after a run). Needs
``chromium`` (``apt-get install -y chromium``); without it the test is skipped with that reason.
"""

import sys
from pathlib import Path

import pytest

from tests import testenv
from tests.stack import Stack

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import docs_screenshot  # noqa: E402

pytestmark = pytest.mark.skipif(
    docs_screenshot.chromium() is None, reason="chromium is not installed"
)


@pytest.fixture(scope="module")
def docs_stack():
    s = Stack("docsbrowser").setup()
    s.manage("collectstatic", "--no-input", "-v0")
    s.start_api(workers=1)
    yield s
    s.stop_all()
    s.drop_database()


def test_docs_page_shows_descriptions(docs_stack):
    # Expand the file repositories list operation through Swagger UI's deep link.
    url = docs_stack.url("docs/") + "#/Repositories:%20File/repositories_file_file_list"
    png = Path(testenv.ROOT) / "docs-page.png"
    dom = docs_screenshot.screenshot(url, png)
    # The document loaded (operations are listed) ...
    assert "repositories_file_file_list" in dom or "/pulp/api/v3/repositories/file/file/" in dom
    # ... and the reader sees words, not bare names: the intro, summaries, parameter texts.
    assert "immutable versions" in dom  # info.description
    assert "List file repositories" in dom
    assert "Sync from a remote" in dom
    assert "contains, ignoring case" in dom  # a parameter of the expanded operation
    assert png.stat().st_size > 20_000  # a blank page is ~14 kB
