"""Lark and regex grammars to GBNF: llama.cpp takes the translation, and its grammar
engine accepts what Lark accepts and refuses what Lark refuses."""

from __future__ import annotations

import json
from pathlib import Path

import lark
import llama_cpp
import pytest

from switchyard.core.request import Tool, ToolGrammar
from switchyard.providers.local.gbnf_tree import Untranslatable
from switchyard.providers.local.grammar import input_gbnf, tool_call_gbnf
from switchyard.providers.local.lark_gbnf import lark_to_gbnf
from switchyard.providers.local.regex_gbnf import regex_tree
from tests.providers.gbnf_match import accepts

# Shaped like Codex's apply_patch grammar: rules, literals, regexes, + ? alternatives,
# an alias and an imported common terminal.
PATCH = r"""
start: begin hunk+ end
begin: "*** Begin Patch" LF
end: "*** End Patch" LF?
hunk: add | delete | update
add: "*** Add File: " path LF plus_line+
delete: "*** Delete File: " path LF
update: "*** Update File: " path LF move? body?
move: "*** Move to: " path LF
path: /(.+)/
plus_line: "+" /(.*)/ LF -> line
body: (context | edit)+ eof?
context: ("@@" | "@@ " /(.+)/) LF
edit: ("+" | "-" | " ") /(.*)/ LF
eof: "*** End of File" LF
%import common.LF
"""
PATCH_GOOD = [
    "*** Begin Patch\n*** Add File: hello.txt\n+Hello \"world\" \\o/\n+\n*** End Patch\n",
    "*** Begin Patch\n*** Update File: src/app.py\n*** Move to: src/main.py\n@@ def greet():\n"
    "-print(\"Hi\")\n+print(\"Hello\")\n \tpass\n*** End of File\n*** Delete File: old.txt\n*** End Patch",
]
PATCH_BAD = [
    "*** Begin Patch\n*** End Patch\n",  # no hunk
    "*** Begin Patch\n*** Add File: a\nno plus\n*** End Patch\n",
    "*** Begin Patch\n*** Add File: a\n+x\n*** End Patch\nmore",
]

ARITH = r"""
?expr: term (("+" | "-") term)*
?term: factor (("*" | "/") factor)*
?factor: NUMBER | "(" expr ")" | "-" factor
%import common.NUMBER
%import common.WS_INLINE
%ignore WS_INLINE
"""
ARITH_GOOD = ["1+2", "3 * (4 - 5.5)", "-2e10/ 7", "  ( 1 )  "]
ARITH_BAD = ["1+", "(1", "1 2", "a"]

KEYWORDS = r"""
start: greeting ("," greeting)~1..3 "!"
greeting: "hello"i | NAME
NAME: ("a".."z")+
"""
KEYWORDS_GOOD = ["HeLLo,bob!", "hello,a,b,c!"]
KEYWORDS_BAD = ["hello!", "hello,a,b,c,d!", "Bob,bob!"]

CASES = [
    (PATCH, PATCH_GOOD, PATCH_BAD),
    (ARITH, ARITH_GOOD, ARITH_BAD),
    (KEYWORDS, KEYWORDS_GOOD, KEYWORDS_BAD),
]

REGEXES = [
    (r"\d{3}-\d{4}", ["555-1234"], ["55-1234", "555-12345", "abc-defg"]),
    (r"(?:cat|dog)s?( [a-z_]\w*)*", ["cats", "dog x_1 y"], ["cow", "cats 1x"]),
    (r"[^\n\"]{1,5}\.", ["ab c.", "\\\\."], ["toolong.", "a\"b.", "."]),
    (r"(?i)yes|no", ["YES", "No"], ["maybe", "yesno"]),
]


@pytest.fixture(scope="module")
def vocab(model_path: Path) -> llama_cpp.Llama:
    return llama_cpp.Llama(str(model_path), vocab_only=True, verbose=False)


def lark_parser(grammar: str) -> lark.Lark:
    """Earley with its dynamic lexer, which refuses terminals that can be empty: ``/(.*)/``
    is written as the same language, ``/(.+)/?``."""
    return lark.Lark(grammar.replace("/(.*)/", "/(.+)/?"), start=_start(grammar))


def lark_accepts(grammar: str, text: str) -> bool:
    try:
        lark_parser(grammar).parse(text)
    except lark.exceptions.LarkError:
        return False
    return True


def _start(grammar: str) -> str:
    return "start" if "\nstart:" in grammar else "expr"


@pytest.mark.slow
@pytest.mark.parametrize(("grammar", "good", "bad"), CASES)
def test_lark_translation_accepts_what_lark_accepts(vocab: llama_cpp.Llama, grammar: str, good: list[str],
                                                    bad: list[str]) -> None:
    rules, start = lark_to_gbnf(grammar, prefix="g")
    gbnf = f"root ::= {start}\n{rules}"
    for text in good:
        assert lark_accepts(grammar, text), text
        assert accepts(vocab, gbnf, text), text
    for text in bad:
        assert not lark_accepts(grammar, text), text
        assert not accepts(vocab, gbnf, text), text


@pytest.mark.slow
@pytest.mark.parametrize(("grammar", "good", "bad"), CASES[:1])
def test_json_string_form_accepts_the_escaped_text(vocab: llama_cpp.Llama, grammar: str, good: list[str],
                                                   bad: list[str]) -> None:
    """A custom tool's input travels as a JSON string: the grammar takes its escaped form."""
    rules, start = lark_to_gbnf(grammar, prefix="g", json_string=True)
    gbnf = f"root ::= {start}\n{rules}"
    for text in good:
        assert accepts(vocab, gbnf, json.dumps(text)[1:-1]), text
        assert not accepts(vocab, gbnf, text), "raw newlines are not JSON"
    for text in bad:
        assert not accepts(vocab, gbnf, json.dumps(text)[1:-1]), text


@pytest.mark.slow
@pytest.mark.parametrize(("pattern", "good", "bad"), REGEXES)
def test_regex_translation(vocab: llama_cpp.Llama, pattern: str, good: list[str], bad: list[str]) -> None:
    import re

    rules, start = _regex(pattern)
    gbnf = f"root ::= {start}\n{rules}"
    for text in good:
        assert re.fullmatch(pattern, text), text
        assert accepts(vocab, gbnf, text), text
    for text in bad:
        assert not re.fullmatch(pattern, text), text
        assert not accepts(vocab, gbnf, text), text


def _regex(pattern: str) -> tuple[str, str]:
    from switchyard.providers.local.gbnf_tree import write

    return write({"start": regex_tree(pattern)}, "start", prefix="r")


@pytest.mark.slow
def test_tool_call_grammar_takes_a_custom_call_and_a_function_call(vocab: llama_cpp.Llama) -> None:
    tools = [Tool("apply_patch", grammar=ToolGrammar("lark", PATCH)),
             Tool("shell", parameters={"type": "object", "properties": {"cmd": {"type": "string"}},
                                       "required": ["cmd"]})]
    gbnf = tool_call_gbnf(tools)
    patch = json.dumps({"input": PATCH_GOOD[0]})
    assert accepts(vocab, gbnf, '{"name": "apply_patch", "arguments": ' + patch + "}")
    assert accepts(vocab, gbnf, '{"name": "shell", "arguments": {"cmd": "ls"}}')
    bad = json.dumps({"input": PATCH_BAD[1]})
    assert not accepts(vocab, gbnf, '{"name": "apply_patch", "arguments": ' + bad + "}")


@pytest.mark.parametrize(
    "grammar",
    [
        'start: "a" (?=b)',  # not Lark at all
        "start: /a(?=b)/",  # a lookahead
        r"start: /(a)\1/",  # a backreference
        "start: x\n%import other.x",
        "start: _sep{a, b}",
        "start: undefined_rule",
    ],
)
def test_untranslatable_grammars_are_reported(grammar: str) -> None:
    assert isinstance(input_gbnf(ToolGrammar("lark", grammar), "u"), Untranslatable)


def test_an_untranslatable_custom_tool_falls_back_to_a_string_input() -> None:
    tools = [Tool("odd", grammar=ToolGrammar("regex", r"(a)\1"))]
    gbnf = tool_call_gbnf(tools)
    assert "odd" in gbnf and "ct0" not in gbnf
