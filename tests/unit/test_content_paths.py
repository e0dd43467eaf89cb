"""Pure functions of the content app: request-target validation, Range parsing, content types."""

import pytest

from pulpcore.content.paths import BadPath, parse_content_path
from pulpcore.content.serve import content_type_for, parse_range

PREFIX = "/pulp/content/"


@pytest.mark.parametrize(
    "target,segments,slash",
    [
        ("/pulp/content/", (), True),
        ("/pulp/content/a/b/c.iso", ("a", "b", "c.iso"), False),
        ("/pulp/content/a/b/", ("a", "b"), True),
        ("/pulp/content/a%20b/%C3%A9.txt?x=1", ("a b", "é.txt"), False),
        ("/pulp/content/a/%25percent", ("a", "%percent"), False),
        ("/pulp/content/a/..b/c..", ("a", "..b", "c.."), False),  # dots inside names are fine
    ],
)
def test_valid_targets(target, segments, slash):
    path = parse_content_path(target, PREFIX)
    assert path.segments == segments and path.trailing_slash is slash


def test_outside_prefix_is_none():
    assert parse_content_path("/pulp/api/v3/", PREFIX) is None
    assert parse_content_path("/pulp/contentX/a", PREFIX) is None


@pytest.mark.parametrize(
    "rest",
    ["..", "a/..", "a/../b", "./a", "a/./b", "%2e%2e/x", "a%2Fb", "a%2fb", "a%5Cb", "a\\b",
     "a%00b", "a//b", "/a", "a%0Ab", "a%7Fb", "%ff%fe"],
)  # fmt: skip
def test_refused_targets(rest):
    with pytest.raises(BadPath):
        parse_content_path(PREFIX + rest, PREFIX)


@pytest.mark.parametrize(
    "header,size,expected",
    [
        ("bytes=0-0", 10, (0, 0)),
        ("bytes=0-", 10, (0, 9)),
        ("bytes=-3", 10, (7, 9)),
        ("bytes=-30", 10, (0, 9)),
        ("bytes=5-100", 10, (5, 9)),
        ("BYTES = 2-3", 10, (2, 3)),
        ("bytes=10-", 10, False),
        ("bytes=-0", 10, False),
        ("bytes=0-0", 0, False),
        ("bytes=-1", 0, False),
        ("bytes=3-2", 10, None),
        ("bytes=1-2,4-5", 10, None),
        ("bytes=a-b", 10, None),
        ("bytes=", 10, None),
        ("bytes=-", 10, None),
        ("lines=1-2", 10, None),
    ],
)
def test_parse_range(header, size, expected):
    assert parse_range(header, size) == expected


@pytest.mark.parametrize(
    "name,ctype",
    [
        ("a/b.txt", "text/plain"),
        ("x.tar.gz", "application/gzip"),
        ("x.gz", "application/gzip"),
        ("x.xz", "application/x-xz"),
        ("x.json", "application/json"),
        ("PULP_MANIFEST", "application/octet-stream"),
        ("noext", "application/octet-stream"),
    ],
)
def test_content_type_for(name, ctype):
    assert content_type_for(name) == ctype
