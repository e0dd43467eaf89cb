"""Parser for the ``q`` filter: ``name="foo" AND NOT (pulp_type__in="a,b" OR size__gt=3)``.

As in Pulp, an expression's complexity (one per filter term, per ``NOT`` and per chain of
``AND``/``OR``) may be at most :data:`MAX_COMPLEXITY`, and parentheses nest at most
:data:`MAX_DEPTH` deep. Both limits are checked on the tokens before the recursive parser runs, so
no input can exhaust the interpreter's stack.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db.models import Q

MAX_COMPLEXITY = 8
MAX_DEPTH = 16

_TOKEN = re.compile(
    r"\s*(?:(?P<lpar>\()|(?P<rpar>\))|(?P<op>AND|OR|NOT)\b|"
    r"(?P<term>[A-Za-z_][A-Za-z0-9_]*)\s*=\s*(?:\"(?P<dq>[^\"]*)\"|'(?P<sq>[^']*)'|(?P<bare>[^\s()]+)))",
)


@dataclass
class Term:
    name: str
    value: str

    def complexity(self) -> int:
        return 1

    def to_q(self, filterset, qs) -> Q:
        return filterset.q_for(self.name, self.value, qs)


@dataclass
class Not:
    inner: Term | Not | Chain

    def complexity(self) -> int:
        return 1 + self.inner.complexity()

    def to_q(self, filterset, qs) -> Q:
        return ~self.inner.to_q(filterset, qs)


@dataclass
class Chain:
    """``a AND b AND c`` (or the same with ``OR``): counts once, however long."""

    op: str
    items: list

    def complexity(self) -> int:
        return 1 + sum(item.complexity() for item in self.items)

    def to_q(self, filterset, qs) -> Q:
        result = self.items[0].to_q(filterset, qs)
        for item in self.items[1:]:
            other = item.to_q(filterset, qs)
            result = result & other if self.op == "AND" else result | other
        return result


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


def _check_limits(tokens: list[tuple[str, object]]) -> None:
    """Refuse expressions over the limits before parsing (the parser recurses per level)."""
    depth = deepest = 0
    for kind, _ in tokens:
        if kind == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif kind == ")":
            depth -= 1
    if deepest > MAX_DEPTH:
        raise ValueError(f"The q expression nests parentheses {deepest} deep; at most {MAX_DEPTH}.")
    # Terms and NOTs each add one to the complexity, so this bounds it from below.
    floor = sum(1 for kind, _ in tokens if kind in ("term", "NOT"))
    if floor > MAX_COMPLEXITY:
        raise ValueError(_too_complex(floor))


def _too_complex(complexity: int) -> str:
    return (
        f"The q expression has a complexity of {complexity} or more; at most {MAX_COMPLEXITY} "
        "(one per filter, per NOT and per chain of AND/OR)."
    )


def parse_q(text: str) -> Term | Not | Chain:
    """Parse ``text`` into an expression tree; raise ValueError when malformed or too complex."""
    tokens = _tokenize(text)
    if not tokens:
        raise ValueError("Empty q expression")
    _check_limits(tokens)
    pos = 0

    def peek():
        return tokens[pos][0] if pos < len(tokens) else None

    def take(kind=None):
        nonlocal pos
        if pos >= len(tokens) or (kind and tokens[pos][0] != kind):
            raise ValueError(f"Malformed q expression: expected {kind or 'more input'}")
        pos += 1
        return tokens[pos - 1]

    def chain(op: str, operand):
        items = [operand()]
        while peek() == op:
            take()
            items.append(operand())
        return items[0] if len(items) == 1 else Chain(op, items)

    def parse_or():
        return chain("OR", parse_and)

    def parse_and():
        return chain("AND", parse_not)

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

    tree = parse_or()
    if pos != len(tokens):
        raise ValueError("Malformed q expression: unexpected trailing input")
    if tree.complexity() > MAX_COMPLEXITY:
        raise ValueError(_too_complex(tree.complexity()))
    return tree
