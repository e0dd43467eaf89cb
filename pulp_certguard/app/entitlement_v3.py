"""The content paths of a version 3 Red Hat entitlement certificate, decoded by hand.

Why by hand: the paths live in a private extension whose payload is not ASN.1 beyond its outer
OCTET STRING, so ``cryptography`` hands us opaque bytes. The layout, as we read it:

1. The extension ``1.3.6.1.4.1.2312.9.7`` holds a DER OCTET STRING whose content is the payload.
   An empty payload is a certificate that grants no content.
2. The payload starts with a zlib stream. Inflated, it is the *word list*: every distinct path
   segment, each followed by a NUL byte. Splitting on NUL therefore yields the segments and one
   final empty string; the empty string is the end-of-node marker used in step 5.
3. Whatever follows the zlib stream starts with the *node count*, the number of nodes of the path
   graph including its root. A first byte below 128 is the count itself; otherwise its low seven
   bits say how many big-endian bytes that follow make up the count.
4. Two Huffman codes are rebuilt, not transmitted. For a list of items, item ``i`` (counting from
   1) gets weight ``i``. The two lightest entries of the queue are merged repeatedly; the first
   one taken becomes the ``0`` branch, the second the ``1`` branch, and between equal weights
   the entry that entered the queue earlier is taken first (a merged entry enters after all the
   items and every earlier merge). The word code is built over the word list; the node code over
   the nodes numbered 1 .. count-1 (the root is never referenced, so it has no code). A code made
   of a single item has zero bits.
5. The rest of the bytes are a bit stream, most significant bit of each byte first. For node 0
   (the root), then node 1, and so on: repeatedly read a word code; the end-of-node marker ends
   this node, any other word is an edge labelled with that segment and is followed by a node code
   naming the child it leads to. Children may be shared by several parents (the encoder merges
   equal sub-trees), so the result is a graph, not a tree. Trailing bits pad the last byte.

A node without edges ends a granted path. A request is allowed when, walking from the root one
request segment at a time (an edge whose label starts with ``$``, like ``$releasever``, matches
any one segment), the walk reaches such an end: a granted path is a prefix of the request, as
with version 1 certificates. A root without edges grants nothing. Since only a node without edges
ends a path, an issuer leaves out any path lying below another granted path (the shorter one
already grants it).

Everything read is bounded (inflated size, node count against the bits present), and any
inconsistency raises :class:`MalformedEntitlement`, which the guard turns into a 403.
"""

from __future__ import annotations

import heapq
import zlib
from dataclasses import dataclass

OCTET_STRING = 0x04
# Inflated word lists beyond this are refused (a real certificate's list is a few KiB).
MAX_WORDS_BYTES = 4 * 1024 * 1024


class MalformedEntitlement(ValueError):
    """The version 3 entitlement payload cannot be decoded."""


def unwrap_octet_string(value: bytes) -> bytes:
    """The content of the DER OCTET STRING ``value`` (the extension's value)."""
    if len(value) < 2 or value[0] != OCTET_STRING:
        raise MalformedEntitlement("the entitlement extension is not an OCTET STRING")
    length, offset = value[1], 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or len(value) < 2 + count:
            raise MalformedEntitlement("the entitlement extension has a bad length")
        length = int.from_bytes(value[2 : 2 + count], "big")
        offset = 2 + count
    if len(value) != offset + length:
        raise MalformedEntitlement("the entitlement extension has a bad length")
    return value[offset:]


# A Huffman code as a tree: an int is a leaf (the item's index), a pair is (branch 0, branch 1).
_Code = int | tuple["_Code", "_Code"]


def _huffman(count: int) -> _Code | None:
    """The code of ``count`` items weighted 1..count (step 4 of the module docstring)."""
    if count == 0:
        return None
    queue: list[tuple[int, int, _Code]] = [(i + 1, i, i) for i in range(count)]
    arrival = count
    while len(queue) > 1:
        w0, _, zero = heapq.heappop(queue)
        w1, _, one = heapq.heappop(queue)
        heapq.heappush(queue, (w0 + w1, arrival, (zero, one)))
        arrival += 1
    return queue[0][2]


class _Bits:
    """Reads a byte string one bit at a time, most significant bit first."""

    __slots__ = ("data", "pos", "end")

    def __init__(self, data: bytes):
        self.data, self.pos, self.end = data, 0, len(data) * 8

    def read(self, code: _Code | None) -> int:
        if code is None:
            raise MalformedEntitlement("a reference points into an empty code")
        node = code
        while not isinstance(node, int):
            if self.pos >= self.end:
                raise MalformedEntitlement("the path data ends in the middle of a node")
            bit = (self.data[self.pos >> 3] >> (7 - (self.pos & 7))) & 1
            self.pos += 1
            node = node[bit]
        return node


@dataclass(frozen=True)
class PathGraph:
    """The decoded paths: per node its labelled edges, and the children of its ``$`` edges."""

    edges: tuple[dict[str, frozenset[int]], ...]
    variable: tuple[frozenset[int], ...]

    def _is_end(self, node: int) -> bool:
        return not self.edges[node]

    def allows(self, path: str) -> bool:
        """True when a granted path is a segment-wise prefix of ``path``."""
        if self._is_end(0):
            return False
        frontier = {0}
        for segment in (s for s in path.split("/") if s):
            step: set[int] = set()
            for node in frontier:
                step.update(self.edges[node].get(segment, ()))
                step.update(self.variable[node])
            if not step:
                return False
            if any(self._is_end(n) for n in step):
                return True
            frontier = step
        return False

    def paths(self, limit: int = 1000) -> list[str]:
        """Up to ``limit`` granted paths, sorted (for logs and tests)."""
        found: list[str] = []
        stack: list[tuple[int, str, int]] = [(0, "", 0)]
        while stack and len(found) < limit:
            node, prefix, depth = stack.pop()
            if self._is_end(node):
                if prefix:
                    found.append(prefix)
            elif depth < 64:  # deeper only through a cycle in malformed data
                for word, children in self.edges[node].items():
                    stack.extend((c, f"{prefix}/{word}", depth + 1) for c in children)
        return sorted(found)


def decode(payload: bytes) -> PathGraph:
    """The path graph of a version 3 payload (the content of the extension's OCTET STRING)."""
    if not payload:
        return PathGraph(edges=({},), variable=(frozenset(),))
    inflater = zlib.decompressobj()
    try:
        words_blob = inflater.decompress(payload, MAX_WORDS_BYTES)
    except zlib.error as exc:
        raise MalformedEntitlement("the word list is not a zlib stream") from exc
    if inflater.unconsumed_tail:
        raise MalformedEntitlement("the word list is too large")
    if not inflater.eof:
        raise MalformedEntitlement("the word list is truncated")
    try:
        words = [w.decode("utf-8") for w in words_blob.split(b"\0")]
    except UnicodeDecodeError as exc:
        raise MalformedEntitlement("a path segment is not UTF-8") from exc
    if words[-1] != "":
        raise MalformedEntitlement("the word list does not end with a NUL byte")

    rest = inflater.unused_data
    if not rest:
        raise MalformedEntitlement("the node count is missing")
    count, offset = rest[0], 1
    if count & 0x80:
        size = count & 0x7F
        if size == 0 or size > 4 or len(rest) < 1 + size:
            raise MalformedEntitlement("the node count is malformed")
        count, offset = int.from_bytes(rest[1 : 1 + size], "big"), 1 + size
    bits = _Bits(rest[offset:])
    # Every node spends at least one bit on its end marker once the word code has two words,
    # so more nodes than bits is impossible in a well-formed payload.
    # Without any word but the end marker no edge can exist, so the root must be alone.
    if count == 0 or (len(words) > 1 and count > bits.end) or (len(words) == 1 and count > 1):
        raise MalformedEntitlement("the node count does not fit the path data")

    word_code, node_code = _huffman(len(words)), _huffman(count - 1)
    edges: list[dict[str, set[int]]] = [{} for _ in range(count)]
    for node in range(count):
        while True:
            word = words[bits.read(word_code)]
            if word == "":
                break
            edges[node].setdefault(word, set()).add(bits.read(node_code) + 1)
    return PathGraph(
        edges=tuple({w: frozenset(c) for w, c in e.items()} for e in edges),
        variable=tuple(
            frozenset().union(*(c for w, c in e.items() if w.startswith("$"))) for e in edges
        ),
    )
