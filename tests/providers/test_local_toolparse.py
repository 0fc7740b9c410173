"""The tool-call stream parser, fed token by token."""

from __future__ import annotations

import json

import pytest

from switchyard.providers.local.toolparse import (
    ArgsDelta,
    CallEnd,
    CallStart,
    Output,
    Text,
    ToolCallParser,
)

TOOLS = {"get_weather", "search"}


def run(tokens: list[str], known: set[str] = TOOLS) -> list[Output]:
    parser = ToolCallParser(known)
    out: list[Output] = []
    for token in tokens:
        out.extend(parser.feed(token))
    out.extend(parser.finish())
    return out


def summary(outputs: list[Output]) -> list[tuple[str, ...]]:
    """Merge deltas so that tests compare meaning, not chunking."""
    result: list[tuple[str, ...]] = []
    for o in outputs:
        if isinstance(o, Text):
            if result and result[-1][0] == "text":
                result[-1] = ("text", result[-1][1] + o.text)
            else:
                result.append(("text", o.text))
        elif isinstance(o, CallStart):
            result.append(("call", o.name, ""))
        elif isinstance(o, ArgsDelta):
            kind, name, args = result[-1]
            assert kind == "call"
            result[-1] = ("call", name, args + o.text)
        elif isinstance(o, CallEnd):
            result.append(("end",))
    return result


def chars(text: str) -> list[str]:
    return list(text)


TAG_CALL = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>'
FENCE_CALL = '```json\n{"name": "search", "arguments": {"q": "a } \\" {"}}\n```'

CASES = [
    ("plain text", ["Hello", " world", "!"], [("text", "Hello world!")]),
    (
        "tag call as tokens",
        [
            "<tool_call>",
            "\n",
            '{"',
            "name",
            '":',
            ' "',
            "get",
            "_weather",
            '",',
            ' "',
            "arguments",
            '":',
            ' {"',
            "city",
            '":',
            ' "',
            "Paris",
            '"}}',
            "\n",
            "</tool_call>",
        ],
        [("call", "get_weather", '{"city": "Paris"}'), ("end",)],
    ),
    ("tag call by chars", chars(TAG_CALL), [("call", "get_weather", '{"city": "Paris"}'), ("end",)]),
    (
        "fence call with braces in strings",
        chars(FENCE_CALL),
        [("call", "search", '{"q": "a } \\" {"}'), ("end",)],
    ),
    (
        "text then call",
        ["Let me check.", "\n", *chars(TAG_CALL)],
        [("text", "Let me check."), ("call", "get_weather", '{"city": "Paris"}'), ("end",)],
    ),
    (
        "parallel calls",
        [*chars(TAG_CALL), "\n", *chars(TAG_CALL.replace("Paris", "Rome"))],
        [
            ("call", "get_weather", '{"city": "Paris"}'),
            ("end",),
            ("call", "get_weather", '{"city": "Rome"}'),
            ("end",),
        ],
    ),
    (
        "fence that is code",
        chars("Try:\n```python\nprint(1)\n```\nok"),
        [("text", "Try:\n```python\nprint(1)\n```\nok")],
    ),
    (
        "json fence that is data",
        chars('```json\n{"a": 1}\n```'),
        [("text", '```json\n{"a": 1}\n```')],
    ),
    (
        "json fence naming an unknown tool",
        chars('```json\n{"name": "nope", "arguments": {}}\n```'),
        [("text", '```json\n{"name": "nope", "arguments": {}}\n```')],
    ),
    ("dangling backticks at end", chars("see ``"), [("text", "see ``")]),
    ("lookalike tag", chars("<tool>x</tool>"), [("text", "<tool>x</tool>")]),
    (
        "string-encoded arguments",
        chars('<tool_call>\n{"name": "search", "arguments": "{\\"q\\": 1}"}\n</tool_call>'),
        [("call", "search", '{"q": 1}'), ("end",)],
    ),
    (
        "call cut off by length",
        chars('<tool_call>\n{"name": "search", "arguments": {"q": "ab'),
        [("call", "search", '{"q": "ab'), ("end",)],
    ),
    (
        "text after call",
        [*chars(TAG_CALL), "\n", "Done", "."],
        [("call", "get_weather", '{"city": "Paris"}'), ("end",), ("text", "Done.")],
    ),
    (
        "fence without language",
        chars('```\n{"name": "search", "arguments": {"q": 1}}\n```'),
        [("call", "search", '{"q": 1}'), ("end",)],
    ),
    (
        "bare call at the start",
        chars('{"name": "search", "arguments": {"q": 1}}'),
        [("call", "search", '{"q": 1}'), ("end",)],
    ),
    (
        "two bare calls",
        chars('{"name": "search", "arguments": {}}\n{"name": "get_weather", "arguments": {}}'),
        [("call", "search", "{}"), ("end",), ("call", "get_weather", "{}"), ("end",)],
    ),
    ("bare json that is data", chars('{"a": {"name": "x"}}'), [("text", '{"a": {"name": "x"}}')]),
    (
        "llama 3 python tag with parameters",
        chars('<|python_tag|>{"name": "search", "parameters": {"q": "x"}}'),
        [("call", "search", '{"q": "x"}'), ("end",)],
    ),
    (
        "llama 3 bare call with parameters",
        chars('{"name": "get_weather", "parameters": {"city": "Rome"}}'),
        [("call", "get_weather", '{"city": "Rome"}'), ("end",)],
    ),
    (
        "mistral list of calls",
        chars('[TOOL_CALLS] [{"name": "search", "arguments": {"q": 1}}, {"name": "get_weather", '
              '"arguments": {"city": "Oslo"}}]'),
        [("call", "search", '{"q": 1}'), ("end",), ("call", "get_weather", '{"city": "Oslo"}'), ("end",)],
    ),
    (
        "mistral single call without brackets",
        chars('[TOOL_CALLS]{"name": "search", "arguments": {}}'),
        [("call", "search", "{}"), ("end",)],
    ),
    (
        "mistral name and args, one opener per call",
        chars('[TOOL_CALLS]search[ARGS]{"q": "a [b]"}[TOOL_CALLS]get_weather[ARGS]{"city": "Oslo"}'),
        [("call", "search", '{"q": "a [b]"}'), ("end",), ("call", "get_weather", '{"city": "Oslo"}'), ("end",)],
    ),
    (
        "mistral name and args in whole tokens",
        ["[TOOL_CALLS]", "search", "[ARGS]", '{"q":', ' 2}'],
        [("call", "search", '{"q": 2}'), ("end",)],
    ),
    (
        "mistral opener before text that is no call",
        chars("[TOOL_CALLS]not a call\nafter"),
        [("text", "[TOOL_CALLS]not a call\nafter")],
    ),
    ("a bracket that is text", chars("[1, 2] and [TOOL"), [("text", "[1, 2] and [TOOL")]),
    (
        "bare object after text is text",
        chars('See {"name": "search", "arguments": {}}'),
        [("text", 'See {"name": "search", "arguments": {}}')],
    ),
]


@pytest.mark.parametrize(("tokens", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_parser(tokens: list[str], expected: list[tuple[str, ...]]) -> None:
    assert summary(run(tokens)) == expected


def test_arguments_stream_before_the_call_ends() -> None:
    parser = ToolCallParser(TOOLS)
    out: list[Output] = []
    for c in '<tool_call>\n{"name": "search", "arguments": {"q": "x':
        out.extend(parser.feed(c))
    assert isinstance(out[0], CallStart) and out[0].name == "search"
    assert "".join(o.text for o in out if isinstance(o, ArgsDelta)) == '{"q": "x'


def test_name_known_before_arguments() -> None:
    parser = ToolCallParser(TOOLS)
    out = parser.feed('<tool_call>\n{"name": "search"')
    assert out == [CallStart("search")]
    assert parser.in_call


def test_plain_text_streams_without_holding() -> None:
    parser = ToolCallParser(set())
    assert parser.feed("Hi ") == [Text("Hi ")]
    assert parser.feed("`") == []
    assert parser.feed("x") == [Text("`x")]


def test_arguments_are_valid_json() -> None:
    [call] = [s for s in summary(run(chars(FENCE_CALL))) if s[0] == "call"]
    assert json.loads(call[2]) == {"q": 'a } " {'}
