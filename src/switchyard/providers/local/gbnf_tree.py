"""A grammar as a tree, written out as llama.cpp GBNF.

The tree is what the Lark and regex translators produce. It is written either as
the text itself (``json_string=False``) or as that text's encoding inside a JSON
string (``json_string=True``): a custom tool's input travels as the JSON string
``{"input": "..."}`` of a tool call, so every character the grammar allows is
allowed in its JSON-escaped form (``"`` as ``\\"``, a newline as ``\\n``...).
Control characters other than tab, newline, carriage return, backspace and form
feed are left out of the JSON form: the grammar then accepts a subset of the
language, never more.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

MAX_CHAR = 0x10FFFF
Ranges = tuple[tuple[int, int], ...]


class Untranslatable(ValueError):
    """The grammar uses something GBNF (or this translator) cannot express."""


@dataclass(frozen=True, slots=True)
class Lit:
    text: str


@dataclass(frozen=True, slots=True)
class Chars:
    """A set of code points, always as sorted, disjoint, inclusive ranges."""

    ranges: Ranges


@dataclass(frozen=True, slots=True)
class Ref:
    name: str


@dataclass(frozen=True, slots=True)
class Seq:
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Alt:
    options: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Rep:
    item: Node
    min: int
    max: int | None


Node = Lit | Chars | Ref | Seq | Alt | Rep
EMPTY = Seq(())


def chars(ranges: list[tuple[int, int]] | Ranges, *, negate: bool = False) -> Chars:
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    if negate:
        return Chars(_complement(tuple(merged)))
    return Chars(tuple(merged))


def _complement(ranges: Ranges) -> Ranges:
    out: list[tuple[int, int]] = []
    at = 0
    for lo, hi in ranges:
        if lo > at:
            out.append((at, lo - 1))
        at = hi + 1
    if at <= MAX_CHAR:
        out.append((at, MAX_CHAR))
    return tuple(out)


def _minus(ranges: Ranges, taken: Ranges) -> Ranges:
    return _intersect(ranges, _complement(taken))


def _intersect(a: Ranges, b: Ranges) -> Ranges:
    out = []
    for lo, hi in a:
        for blo, bhi in b:
            if blo <= hi and lo <= bhi:
                out.append((max(lo, blo), min(hi, bhi)))
    return chars(out).ranges


def _contains(ranges: Ranges, c: int) -> bool:
    return any(lo <= c <= hi for lo, hi in ranges)


_JSON_SPECIAL: Ranges = ((0x00, 0x1F), (0x22, 0x22), (0x5C, 0x5C))
_JSON_ESCAPES = {0x22: '\\"', 0x5C: "\\\\", 0x0A: "\\n", 0x09: "\\t", 0x0D: "\\r", 0x08: "\\b", 0x0C: "\\f"}


def write(rules: dict[str, Node], start: str, *, prefix: str, json_string: bool = False) -> tuple[str, str]:
    """GBNF lines for ``rules``, each name prefixed; returns (text, name of the start rule)."""
    names = _names(rules, prefix)
    writer = _Writer(names, json_string)
    lines = [f"{names[name]} ::= {writer.node(node)}" for name, node in rules.items()]
    if start not in names:
        raise Untranslatable(f"no rule named '{start}'")
    return "\n".join(lines) + "\n", names[start]


def _names(rules: dict[str, Node], prefix: str) -> dict[str, str]:
    out: dict[str, str] = {}
    used: set[str] = set()
    for name in rules:
        base = prefix + "-" + ("".join(c if c.isascii() and c.isalnum() else "-" for c in name).strip("-") or "r")
        candidate, n = base, 1
        while candidate in used:
            n += 1
            candidate = f"{base}{n}"
        used.add(candidate)
        out[name] = candidate
    return out


class _Writer:
    def __init__(self, names: dict[str, str], json_string: bool) -> None:
        self._names = names
        self._json = json_string

    def node(self, node: Node) -> str:
        if isinstance(node, Lit):
            return self._literal(node.text)
        if isinstance(node, Chars):
            return self._chars(node.ranges)
        if isinstance(node, Ref):
            if node.name not in self._names:
                raise Untranslatable(f"'{node.name}' is used but never defined")
            return self._names[node.name]
        if isinstance(node, Seq):
            if not node.items:
                return '""'
            return " ".join(self._atom(i) for i in node.items)
        if isinstance(node, Alt):
            return " | ".join(self.node(o) for o in node.options) if node.options else '""'
        return self._atom(node.item) + _quantifier(node.min, node.max)

    def _atom(self, node: Node) -> str:
        text = self.node(node)
        if isinstance(node, Alt | Rep) or (isinstance(node, Seq) and len(node.items) != 1):
            return f"({text})"
        return text

    def _literal(self, text: str) -> str:
        if self._json:
            text = json.dumps(text, ensure_ascii=False)[1:-1]
        return '"' + "".join(_escape(c) for c in text) + '"'

    def _chars(self, ranges: Ranges) -> str:
        if not self._json:
            return _class(ranges) if ranges else "[^\\x00-\\U0010FFFF]"
        options = []
        plain = _minus(ranges, _JSON_SPECIAL)
        if plain:
            options.append(_class(plain))
        options += [self._literal_raw(esc) for c, esc in _JSON_ESCAPES.items() if _contains(ranges, c)]
        if not options:
            raise Untranslatable("a character set with no character a JSON string can carry")
        return options[0] if len(options) == 1 else "(" + " | ".join(options) + ")"

    @staticmethod
    def _literal_raw(text: str) -> str:
        return '"' + "".join(_escape(c) for c in text) + '"'


def _quantifier(lo: int, hi: int | None) -> str:
    if (lo, hi) == (0, None):
        return "*"
    if (lo, hi) == (1, None):
        return "+"
    if (lo, hi) == (0, 1):
        return "?"
    if hi is None:
        return f"{{{lo},}}"
    return f"{{{lo}}}" if lo == hi else f"{{{lo},{hi}}}"


def _escape(c: str) -> str:
    code = ord(c)
    if c.isascii() and (c.isalnum() or c in " !#$%&'()*+,./:;<=>?@^_`{|}~-"):
        return c
    if code < 0x80:
        return f"\\x{code:02X}"
    if 0xD800 <= code <= 0xDFFF:
        raise Untranslatable("a lone surrogate code point")
    return c


def _class_char(code: int) -> str:
    if code < 0x80:
        c = chr(code)
        return c if c.isalnum() else f"\\x{code:02X}"
    return f"\\u{code:04X}" if code <= 0xFFFF else f"\\U{code:08X}"


def _class(ranges: Ranges) -> str:
    parts = []
    for lo, hi in ranges:
        if 0xD800 <= lo <= 0xDFFF or 0xD800 <= hi <= 0xDFFF or (lo < 0xD800 and hi > 0xDFFF):
            # Surrogates are not characters: split them out of the range.
            for a, b in ((lo, min(hi, 0xD7FF)), (max(lo, 0xE000), hi)):
                if a <= b:
                    parts.append(_class_char(a) if a == b else f"{_class_char(a)}-{_class_char(b)}")
            continue
        parts.append(_class_char(lo) if lo == hi else f"{_class_char(lo)}-{_class_char(hi)}")
    return "[" + "".join(parts) + "]"


def gbnf_literal(text: str) -> str:
    """``text`` as a GBNF string literal."""
    return '"' + "".join(_escape(c) for c in text) + '"'
