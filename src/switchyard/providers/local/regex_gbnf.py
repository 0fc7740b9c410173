"""Python/Lark regular expressions to a grammar tree (``gbnf_tree``).

Covered: literals and escapes, ``.``, classes (ranges, negation, ``\\d\\w\\s`` and
their negations), groups (capturing, ``(?:``, named), alternation, the quantifiers
``? * + {m} {m,} {m,n}`` (lazy ones too: laziness does not change the language),
``^``/``$`` at the ends, and the flags ``i`` and ``s``. Lookarounds, backreferences,
word boundaries and other inline flags raise ``Untranslatable``.
``\\w`` and ``\\d`` are their ASCII forms.
"""

from __future__ import annotations

from switchyard.providers.local.gbnf_tree import EMPTY, Alt, Chars, Node, Rep, Seq, Untranslatable, chars

MAX_REPEAT = 1000

_DIGIT = ((0x30, 0x39),)
_WORD = ((0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A))
_SPACE = ((0x09, 0x0D), (0x20, 0x20))
_CLASSES = {"d": (_DIGIT, False), "D": (_DIGIT, True), "w": (_WORD, False), "W": (_WORD, True),
            "s": (_SPACE, False), "S": (_SPACE, True)}
_SIMPLE = {"n": "\n", "t": "\t", "r": "\r", "f": "\f", "v": "\v", "a": "\a", "0": "\0"}
_UNSUPPORTED_ESCAPES = {"b": "word boundaries (\\b)", "B": "\\B", "A": "\\A", "Z": "\\Z", "z": "\\z", "G": "\\G"}


def regex_tree(pattern: str, flags: str = "") -> Node:
    """The language of ``pattern`` (matched in full) as a tree."""
    parser = _Parser(pattern, flags)
    node = parser.alternation()
    if parser.at < len(pattern):
        raise Untranslatable(f"unbalanced ')' at {parser.at} in /{pattern}/")
    return node


class _Parser:
    def __init__(self, pattern: str, flags: str) -> None:
        self.src = pattern
        self.at = 0
        self.ignore_case = "i" in flags
        self.dot_all = "s" in flags
        unknown = set(flags) - set("imsux")
        if unknown:
            raise Untranslatable(f"regex flags {''.join(sorted(unknown))}")
        self._inline_flags()

    def _inline_flags(self) -> None:
        while self.src.startswith("(?", self.at) and self.at + 2 < len(self.src) and self.src[self.at + 2].isalpha():
            end = self.src.find(")", self.at)
            letters = self.src[self.at + 2 : end]
            if end < 0 or not letters.isalpha() or set(letters) - set("imsux"):
                raise Untranslatable(f"inline regex flags in /{self.src}/")
            self.ignore_case |= "i" in letters
            self.dot_all |= "s" in letters
            self.at = end + 1

    def peek(self) -> str:
        return self.src[self.at] if self.at < len(self.src) else ""

    def take(self) -> str:
        c = self.peek()
        if not c:
            raise Untranslatable(f"unexpected end of /{self.src}/")
        self.at += 1
        return c

    def alternation(self) -> Node:
        options = [self.sequence()]
        while self.peek() == "|":
            self.at += 1
            options.append(self.sequence())
        return options[0] if len(options) == 1 else Alt(tuple(options))

    def sequence(self) -> Node:
        items: list[Node] = []
        while self.peek() not in ("", "|", ")"):
            atom = self.atom()
            if atom is None:
                continue
            items.append(self.quantified(atom))
        return items[0] if len(items) == 1 else Seq(tuple(items))

    def quantified(self, atom: Node) -> Node:
        c = self.peek()
        if c in ("*", "+", "?"):
            self.at += 1
            lo, hi = {"*": (0, None), "+": (1, None), "?": (0, 1)}[c]
        elif c == "{" and (bounds := self._braces()) is not None:
            lo, hi = bounds
        else:
            return atom
        if self.peek() == "?":
            self.at += 1
        elif self.peek() == "+":
            raise Untranslatable("possessive quantifiers")
        if self.peek() in ("*", "+", "?") or (self.peek() == "{" and self._looks_like_braces()):
            raise Untranslatable(f"a doubled quantifier in /{self.src}/")
        return Rep(atom, lo, hi)

    def _looks_like_braces(self) -> bool:
        save = self.at
        try:
            return self._braces() is not None
        finally:
            self.at = save

    def _braces(self) -> tuple[int, int | None] | None:
        end = self.src.find("}", self.at)
        body = self.src[self.at + 1 : end] if end > 0 else ""
        lo_text, comma, hi_text = body.partition(",")
        if not lo_text.isdigit() or (hi_text and not hi_text.isdigit()):
            return None  # a literal "{"
        lo = int(lo_text)
        hi = None if comma and not hi_text else int(hi_text) if hi_text else lo
        if lo > MAX_REPEAT or (hi is not None and (hi > MAX_REPEAT or hi < lo)):
            raise Untranslatable(f"the repetition {{{body}}}")
        self.at = end + 1
        return lo, hi

    def atom(self) -> Node | None:
        c = self.take()
        if c == "(":
            return self._group()
        if c == "[":
            return self._class()
        if c == ".":
            return chars([(0, 0x10FFFF)]) if self.dot_all else chars([(0x0A, 0x0A)], negate=True)
        if c == "\\":
            return self._escape_atom()
        if c == "^":
            if self.at == 1 or self.src[self.at - 2] in "(|":
                return None
            raise Untranslatable("'^' inside a regex")
        if c == "$":
            if self.peek() in ("", "|", ")"):
                return None
            raise Untranslatable("'$' inside a regex")
        if c in ("*", "+", "?"):
            raise Untranslatable(f"nothing to repeat at {self.at - 1} in /{self.src}/")
        return self._char(ord(c))

    def _char(self, code: int) -> Node:
        c = chr(code)
        if self.ignore_case and c.lower() != c.upper():
            return chars([(ord(c.lower()), ord(c.lower())), (ord(c.upper()), ord(c.upper()))])
        return chars([(code, code)])

    def _group(self) -> Node:
        if self.peek() == "?":
            self.at += 1
            kind = self.take()
            if kind == "P" and self.peek() == "<":
                end = self.src.find(">", self.at)
                if end < 0:
                    raise Untranslatable(f"a bad named group in /{self.src}/")
                self.at = end + 1
            elif kind != ":":
                raise Untranslatable(f"'(?{kind}' (lookarounds, backreferences, inline flags)")
        node = self.alternation()
        if self.take() != ")":
            raise Untranslatable(f"an unclosed group in /{self.src}/")
        return node if not isinstance(node, Seq) or node.items else EMPTY

    def _escape_atom(self) -> Node:
        c = self.take()
        if c in _CLASSES:
            ranges, negate = _CLASSES[c]
            return chars(ranges, negate=negate)
        if c in _UNSUPPORTED_ESCAPES:
            raise Untranslatable(_UNSUPPORTED_ESCAPES[c])
        if c.isdigit() and c != "0":
            raise Untranslatable("backreferences")
        return self._char(self._escaped_code(c))

    def _escaped_code(self, c: str) -> int:
        if c in _SIMPLE:
            return ord(_SIMPLE[c])
        if c in ("x", "u", "U"):
            width = {"x": 2, "u": 4, "U": 8}[c]
            digits = self.src[self.at : self.at + width]
            if len(digits) != width or any(d not in "0123456789abcdefABCDEF" for d in digits):
                raise Untranslatable(f"a bad \\{c} escape in /{self.src}/")
            self.at += width
            return int(digits, 16)
        if c.isalnum():
            raise Untranslatable(f"the escape \\{c}")
        return ord(c)

    def _class(self) -> Chars:
        negate = self.peek() == "^"
        if negate:
            self.at += 1
        ranges: list[tuple[int, int]] = []
        first = True
        while True:
            c = self.take()
            if c == "]" and not first:
                break
            first = False
            if c == "\\":
                e = self.take()
                if e in _CLASSES:
                    inner, neg = _CLASSES[e]
                    ranges += chars(inner, negate=neg).ranges
                    continue
                lo = 0x08 if e == "b" else self._escaped_code(e)
            elif c == "[" and self.peek() == ":":
                raise Untranslatable("POSIX classes")
            else:
                lo = ord(c)
            hi = lo
            if self.peek() == "-" and self.src[self.at + 1 : self.at + 2] not in ("]", ""):
                self.at += 1
                h = self.take()
                hi = self._escaped_code(self.take()) if h == "\\" else ord(h)
                if hi < lo:
                    raise Untranslatable(f"a reversed range in /{self.src}/")
            ranges.append((lo, hi))
        if self.ignore_case:
            ranges += _other_case(ranges)
        return chars(ranges, negate=negate)


def _other_case(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out = []
    for lo, hi in ranges:
        for a, b, shift in ((0x41, 0x5A, 0x20), (0x61, 0x7A, -0x20)):
            if lo <= b and a <= hi:
                out.append((max(lo, a) + shift, min(hi, b) + shift))
    return out
