"""Lark grammars (the subset tool definitions use) to GBNF.

Covered: rules and terminals (with ``?``/``!`` modifiers and priorities, which do
not change the language), alternatives over several lines, aliases (``-> name``),
string literals (with the ``i`` flag), regular expressions (``regex_gbnf``),
``"a".."z"`` ranges, groups, ``[optional]``, ``? * +``, ``~ n`` and ``~ n..m``,
``%import common.X`` / ``%import common (X, Y)`` for the usual common terminals, and
``%ignore`` (ignored terminals may appear between the items of a rule). Templates,
``%declare``, ``%override``, ``%extend`` and imports from other grammars raise
``Untranslatable``. The language is the grammar's as a context-free grammar, which
is what Lark's Earley parser accepts.
"""

from __future__ import annotations

import re

from switchyard.providers.local import gbnf_tree as t
from switchyard.providers.local.regex_gbnf import MAX_REPEAT, regex_tree

# Lark's ``common`` terminals, written in the subset this module reads.
COMMON = {
    "DIGIT": '"0".."9"',
    "HEXDIGIT": '"a".."f" | "A".."F" | DIGIT',
    "INT": "DIGIT+",
    "SIGNED_INT": '["+"|"-"] INT',
    "DECIMAL": 'INT "." INT? | "." INT',
    "_EXP": '("e"|"E") SIGNED_INT',
    "FLOAT": "INT _EXP | DECIMAL _EXP?",
    "SIGNED_FLOAT": '["+"|"-"] FLOAT',
    "NUMBER": "FLOAT | INT",
    "SIGNED_NUMBER": '["+"|"-"] NUMBER',
    "ESCAPED_STRING": r'"\"" /([^"\\\n]|\\.)*/ "\""',
    "LETTER": "UCASE_LETTER | LCASE_LETTER",
    "LCASE_LETTER": '"a".."z"',
    "UCASE_LETTER": '"A".."Z"',
    "WORD": "LETTER+",
    "CNAME": '("_"|LETTER) ("_"|LETTER|DIGIT)*',
    "WS_INLINE": '(" "|/\\t/)+',
    "WS": "/[ \\t\\f\\r\\n]/+",
    "CR": '/\\r/',
    "LF": '/\\n/',
    "NEWLINE": "(CR? LF)+",
    "SH_COMMENT": "/#[^\\n]*/",
    "CPP_COMMENT": "/\\/\\/[^\\n]*/",
    "C_COMMENT": '"/*" /([^*]|\\*+[^*\\/])*\\**/ "*/"',
    "SQL_COMMENT": "/--[^\\n]*/",
}

_TOKEN = re.compile(
    r"""
    (?P<ws>[ \t]+|//[^\n]*)
  | (?P<string>"(?:[^"\\\n]|\\.)*"i?)
  | (?P<regex>/(?!/)(?:[^/\\\n]|\\.)+/[imslux]*)
  | (?P<arrow>->)
  | (?P<dots>\.\.)
  | (?P<number>\d+)
  | (?P<name>[_a-zA-Z][_a-zA-Z0-9]*)
  | (?P<op>[:|()\[\]?*+~,.])
    """,
    re.VERBOSE,
)
_DEFINITION = re.compile(r"^\s*([?!]?[_a-zA-Z][_a-zA-Z0-9]*)(?:\.(-?\d+))?\s*:(?!:)")
_IGNORE = "%ignored"


def lark_to_gbnf(definition: str, *, prefix: str, json_string: bool = False) -> tuple[str, str]:
    """GBNF rules for the grammar (names prefixed with ``prefix``) and the name of its
    start rule. Raises ``gbnf_tree.Untranslatable``."""
    rules, start = lark_tree(definition)
    return t.write(rules, start, prefix=prefix, json_string=json_string)


def lark_tree(definition: str) -> tuple[dict[str, t.Node], str]:
    reader = _Reader()
    for statement in _statements(definition):
        reader.statement(statement)
    return reader.finish()


def _statements(text: str) -> list[str]:
    out: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("//") or stripped.startswith("#"):
            continue
        if stripped.startswith("|") and out:
            out[-1] += " " + stripped
        elif _DEFINITION.match(line) or stripped.startswith("%") or not out:
            out.append(stripped)
        else:
            out[-1] += " " + stripped
    return out


class _Reader:
    def __init__(self) -> None:
        self.rules: dict[str, t.Node] = {}
        self.terminals: set[str] = set()
        self.ignored: list[str] = []
        self.imports: set[str] = set()
        self.order: list[str] = []

    def statement(self, text: str) -> None:
        if text.startswith("%"):
            self._directive(text)
            return
        m = _DEFINITION.match(text)
        if not m:
            raise t.Untranslatable(f"cannot read the grammar line '{text[:60]}'")
        name = m.group(1).lstrip("?!")
        if "{" in text[: m.end()]:
            raise t.Untranslatable("rule templates")
        if name in self.rules:
            raise t.Untranslatable(f"'{name}' is defined twice")
        if name.lstrip("_")[:1].isupper():
            self.terminals.add(name)
        self.rules[name] = _Expr(text[m.end() :]).parse()
        self.order.append(name)

    def _directive(self, text: str) -> None:
        word, _, rest = text.partition(" ")
        rest = rest.strip()
        if word == "%import":
            self._import(rest)
        elif word == "%ignore":
            self.ignored.append(rest)
        else:
            raise t.Untranslatable(f"the directive {word}")

    def _import(self, rest: str) -> None:
        m = re.fullmatch(r"common\.(\w+)(?:\s*->\s*(\w+))?", rest) or re.fullmatch(r"common\s*\(([\w\s,]+)\)", rest)
        if not m:
            raise t.Untranslatable(f"'%import {rest}' (only common terminals are known)")
        if rest.startswith("common.") and m.group(2):
            if m.group(1) not in COMMON:
                raise t.Untranslatable(f"the common terminal {m.group(1)}")
            self.statement(f"{m.group(2)}: {m.group(1)}")
            self.imports.add(m.group(1))
            return
        for name in (n.strip() for n in m.group(1).split(",")):
            if name not in COMMON:
                raise t.Untranslatable(f"the common terminal {name}")
            self.imports.add(name)

    def finish(self) -> tuple[dict[str, t.Node], str]:
        pending = list(self.imports)
        while pending:
            name = pending.pop()
            if name in self.rules:
                continue
            node = _Expr(COMMON[name]).parse()
            self.rules[name] = node
            self.terminals.add(name)
            pending += [r for r in _refs(node) if r in COMMON and r not in self.rules]
        if not self.order:
            raise t.Untranslatable("the grammar defines no rule")
        start = "start" if "start" in self.rules else self.order[0]
        for name in self.rules:
            for ref in _refs(self.rules[name]):
                if ref not in self.rules:
                    raise t.Untranslatable(f"'{ref}' is used but never defined")
        if self.ignored:
            self._weave_ignored(start)
        return self.rules, start

    def _weave_ignored(self, start: str) -> None:
        options = tuple(_Expr(text).parse() for text in self.ignored)
        self.rules[_IGNORE] = t.Rep(options[0] if len(options) == 1 else t.Alt(options), 0, None)
        ign = t.Ref(_IGNORE)
        for name in list(self.rules):
            if name not in self.terminals and name != _IGNORE:
                self.rules[name] = _interleave(self.rules[name], ign, self.terminals)
        self.rules[start] = t.Seq((ign, self.rules[start], ign))


def _interleave(node: t.Node, ign: t.Ref, terminals: set[str]) -> t.Node:
    """Ignored text allowed between the items of a rule (not inside its terminals)."""
    if isinstance(node, t.Seq):
        items: list[t.Node] = []
        for item in node.items:
            if items:
                items.append(ign)
            items.append(_interleave(item, ign, terminals))
        return t.Seq(tuple(items))
    if isinstance(node, t.Alt):
        return t.Alt(tuple(_interleave(o, ign, terminals) for o in node.options))
    if isinstance(node, t.Rep):
        inner = _interleave(node.item, ign, terminals)
        if node.max is not None and node.max <= 1:
            return t.Rep(inner, node.min, node.max)
        rest = t.Rep(t.Seq((ign, inner)), max(node.min - 1, 0), None if node.max is None else node.max - 1)
        chain = t.Seq((inner, rest))
        return chain if node.min >= 1 else t.Rep(chain, 0, 1)
    return node


def _refs(node: t.Node) -> list[str]:
    if isinstance(node, t.Ref):
        return [node.name]
    if isinstance(node, t.Seq):
        return [r for i in node.items for r in _refs(i)]
    if isinstance(node, t.Alt):
        return [r for o in node.options for r in _refs(o)]
    if isinstance(node, t.Rep):
        return _refs(node.item)
    return []


class _Expr:
    """One rule's right-hand side: ``alternatives := sequence ('|' sequence)*``."""

    def __init__(self, text: str) -> None:
        self.tokens: list[tuple[str, str]] = []
        at = 0
        while at < len(text):
            m = _TOKEN.match(text, at)
            if not m:
                raise t.Untranslatable(f"cannot read '{text[at:at + 30]}' in the grammar")
            at = m.end()
            kind = m.lastgroup or ""
            if kind != "ws":
                self.tokens.append((kind, m.group()))
        self.at = 0

    def parse(self) -> t.Node:
        node = self.alternatives()
        if self.at < len(self.tokens):
            raise t.Untranslatable(f"unexpected '{self.tokens[self.at][1]}' in the grammar")
        return node

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.at] if self.at < len(self.tokens) else ("", "")

    def take(self, kind: str, value: str | None = None) -> str:
        k, v = self.peek()
        if k != kind or (value is not None and v != value):
            raise t.Untranslatable(f"expected {value or kind} in the grammar, found '{v}'")
        self.at += 1
        return v

    def alternatives(self) -> t.Node:
        options = [self.sequence()]
        while self.peek() == ("op", "|"):
            self.at += 1
            options.append(self.sequence())
        return options[0] if len(options) == 1 else t.Alt(tuple(options))

    def sequence(self) -> t.Node:
        items: list[t.Node] = []
        while True:
            kind, value = self.peek()
            if kind == "arrow":
                self.at += 1
                self.take("name")
                break
            if kind == "" or (kind == "op" and value in "|)]"):
                break
            items.append(self.quantified(self.atom()))
        return items[0] if len(items) == 1 else t.Seq(tuple(items))

    def quantified(self, atom: t.Node) -> t.Node:
        kind, value = self.peek()
        if kind == "op" and value in ("?", "*", "+"):
            self.at += 1
            lo, hi = {"*": (0, None), "+": (1, None), "?": (0, 1)}[value]
            return t.Rep(atom, lo, hi)
        if (kind, value) == ("op", "~"):
            self.at += 1
            lo = int(self.take("number"))
            hi = lo
            if self.peek()[0] == "dots":
                self.at += 1
                hi = int(self.take("number"))
            if hi > MAX_REPEAT or hi < lo:
                raise t.Untranslatable(f"the repetition ~ {lo}..{hi}")
            return t.Rep(atom, lo, hi)
        return atom

    def atom(self) -> t.Node:
        kind, value = self.peek()
        self.at += 1
        if (kind, value) == ("op", "("):
            node = self.alternatives()
            self.take("op", ")")
            return node
        if (kind, value) == ("op", "["):
            node = self.alternatives()
            self.take("op", "]")
            return t.Rep(node, 0, 1)
        if kind == "name":
            if self.peek()[1] == "{":
                raise t.Untranslatable("rule templates")
            return t.Ref(value)
        if kind == "string":
            text, case_insensitive = _string(value)
            if self.peek()[0] == "dots":
                self.at += 1
                other, _ = _string(self.take("string"))
                if len(text) != 1 or len(other) != 1 or ord(other) < ord(text):
                    raise t.Untranslatable(f"the range {value}..{other!r}")
                return t.chars([(ord(text), ord(other))])
            return _literal(text, case_insensitive)
        if kind == "regex":
            body, _, flags = value[1:].rpartition("/")
            return regex_tree(body, flags)
        raise t.Untranslatable(f"unexpected '{value}' in the grammar")


def _string(token: str) -> tuple[str, bool]:
    case_insensitive = token.endswith("i") and not token.endswith('"')
    body = token[1 : -2 if case_insensitive else -1]
    out, i = [], 0
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            simple = {"n": "\n", "t": "\t", "r": "\r", "f": "\f", "v": "\v", "0": "\0", "\\": "\\", '"': '"'}
            if nxt in simple:
                out.append(simple[nxt])
                i += 2
                continue
            if nxt in ("x", "u", "U"):
                width = {"x": 2, "u": 4, "U": 8}[nxt]
                out.append(chr(int(body[i + 2 : i + 2 + width], 16)))
                i += 2 + width
                continue
            out.append(c)  # Lark keeps unknown escapes as written
            i += 1
            continue
        out.append(c)
        i += 1
    return "".join(out), case_insensitive


def _literal(text: str, case_insensitive: bool) -> t.Node:
    if not case_insensitive:
        return t.Lit(text)
    items: list[t.Node] = []
    for c in text:
        if c.lower() != c.upper():
            items.append(t.chars([(ord(c.lower()), ord(c.lower())), (ord(c.upper()), ord(c.upper()))]))
        else:
            items.append(t.Lit(c))
    return t.Seq(tuple(items))
