"""Parser for the ``q`` filter: ``name="foo" AND NOT (pulp_type__in="a,b" OR size__gt=3)``."""

import re
from dataclasses import dataclass

from django.db.models import Q

_TOKEN = re.compile(
    r"\s*(?:(?P<lpar>\()|(?P<rpar>\))|(?P<op>AND|OR|NOT)\b|"
    r"(?P<term>[A-Za-z_][A-Za-z0-9_]*)\s*=\s*(?:\"(?P<dq>[^\"]*)\"|'(?P<sq>[^']*)'|(?P<bare>[^\s()]+)))",
)


@dataclass
class Term:
    name: str
    value: str

    def to_q(self, filterset, qs) -> Q:
        return filterset.q_for(self.name, self.value, qs)


@dataclass
class Not:
    inner: object

    def to_q(self, filterset, qs) -> Q:
        return ~self.inner.to_q(filterset, qs)


@dataclass
class BinOp:
    op: str
    left: object
    right: object

    def to_q(self, filterset, qs) -> Q:
        left, right = self.left.to_q(filterset, qs), self.right.to_q(filterset, qs)
        return left & right if self.op == "AND" else left | right


def _tokenize(text: str) -> list[tuple[str, object]]:
    pos, out = 0, []
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ValueError(f"Cannot parse q expression near {text[pos : pos + 20]!r}")
        pos = m.end()
        if m.group("lpar"):
            out.append(("(", None))
        elif m.group("rpar"):
            out.append((")", None))
        elif m.group("op"):
            out.append((m.group("op"), None))
        else:
            value = next(
                v for v in (m.group("dq"), m.group("sq"), m.group("bare")) if v is not None
            )
            out.append(("term", Term(m.group("term"), value)))
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return out


def parse_q(text: str):
    """Parse ``text`` into an expression tree; raise ValueError when malformed."""
    tokens = _tokenize(text)
    pos = 0

    def peek():
        return tokens[pos][0] if pos < len(tokens) else None

    def take(kind=None):
        nonlocal pos
        if pos >= len(tokens) or (kind and tokens[pos][0] != kind):
            raise ValueError(f"Malformed q expression: expected {kind or 'more input'}")
        pos += 1
        return tokens[pos - 1]

    def parse_or():
        node = parse_and()
        while peek() == "OR":
            take()
            node = BinOp("OR", node, parse_and())
        return node

    def parse_and():
        node = parse_not()
        while peek() == "AND":
            take()
            node = BinOp("AND", node, parse_not())
        return node

    def parse_not():
        if peek() == "NOT":
            take()
            return Not(parse_not())
        if peek() == "(":
            take()
            node = parse_or()
            take(")")
            return node
        return take("term")[1]

    if not tokens:
        raise ValueError("Empty q expression")
    tree = parse_or()
    if pos != len(tokens):
        raise ValueError("Malformed q expression: unexpected trailing input")
    return tree
