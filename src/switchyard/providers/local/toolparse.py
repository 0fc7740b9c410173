"""Split a model's streamed text into plain text and tool calls, incrementally.

The call syntaxes of the common model families are recognised: Qwen's (Hermes')
``<tool_call>\\n{"name": ..., "arguments": {...}}\\n</tool_call>``, Llama 3's
``<|python_tag|>{"name": ..., "parameters": {...}}``, Mistral's
``[TOOL_CALLS] [{"name": ..., "arguments": {...}}, ...]`` and its newer
``[TOOL_CALLS]name[ARGS]{...}`` (one opener per call), a fenced
````json {"name": ..., "arguments": ...}```` block, and the object bare at the start of
the answer (or right after another call). ``"parameters"`` and ``"arguments"`` are
taken alike everywhere.
Text that might still become a call opener is held back; once the name is known a
``CallStart`` is emitted and the arguments stream out character by character until
their closing brace. An opener that turns out not to be a call is released as text.
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass

TAG_OPEN = "<tool_call>"
TAG_CLOSE = "</tool_call>"
FENCE = "```"
# Opener -> closer ("" when the call ends with the object, or the turn).
MISTRAL_OPEN = "[TOOL_CALLS]"
MISTRAL_ARGS = "[ARGS]"
TAGS = {TAG_OPEN: TAG_CLOSE, "<|python_tag|>": "", MISTRAL_OPEN: ""}
_MAX_NAME = 256


@dataclass(slots=True)
class Text:
    text: str


@dataclass(slots=True)
class CallStart:
    name: str


@dataclass(slots=True)
class ArgsDelta:
    text: str


@dataclass(slots=True)
class CallEnd:
    pass


Output = Text | CallStart | ArgsDelta | CallEnd

# The header after the opener: each step is a literal, whitespace, or the name string.
_WS, _NAME = object(), object()
_ARGS_KEY = ('"arguments"', '"parameters"')
_HEADER: tuple[object, ...] = (
    _WS,
    "{",
    _WS,
    '"name"',
    _WS,
    ":",
    _WS,
    '"',
    _NAME,
    _WS,
    ",",
    _WS,
    _ARGS_KEY,
    _WS,
    ":",
    _WS,
)


class ToolCallParser:
    """Feed text with ``feed``; call ``finish`` at the end of the stream.

    ``known_names`` restricts fenced and bare calls (those are often just code or data)
    to real tools; ``<tool_call>`` tags are taken at their word.
    """

    def __init__(self, known_names: set[str] | frozenset[str] = frozenset()) -> None:
        self._known = frozenset(known_names)
        self._out: list[Output] = []
        self._pending: deque[str] = deque()
        self._state = "text"
        self._hold = ""  # text state: a possible opener prefix
        self._ws = ""  # whitespace held until non-space text follows (dropped before a call)
        self._raw = ""  # everything consumed since the opener, released if it is no call
        self._fence = False
        self._bare = False
        self._opener = ""
        self._array = False  # Mistral's list of calls after one opener
        self._lit_text = ""
        self._text_seen = False  # text was emitted since the start or the last call
        self._step = 0
        self._lit = 0
        self._name = ""
        self._escape = False
        self._committed = False
        self._depth = 0
        self._in_string = False
        self._string_args = ""
        self._trailer = ""
        self._after_call = False
        self.calls = 0

    @property
    def in_call(self) -> bool:
        """A call opener has been seen (the header may still be arriving)."""
        return self._state in ("header", "name", "args", "trailer") and not (self._fence or self._bare)

    def feed(self, text: str) -> list[Output]:
        self._pending.extend(text)
        self._drain(final=False)
        return self._flush()

    def finish(self) -> list[Output]:
        self._drain(final=True)
        if self._state == "text":
            self._emit_text(self._hold)
            self._hold = ""
        elif self._committed:
            if self._string_args:
                self._out.append(ArgsDelta(_decode_string(self._string_args)))
            self._out.append(CallEnd())
        elif self._state in ("fence", "header", "name"):
            self._release(final=True)
            return self.finish()
        self._reset_to_text()
        self._ws = ""
        return self._flush()

    # -- machinery ---------------------------------------------------------------

    def _drain(self, final: bool) -> None:
        while self._pending:
            c = self._pending.popleft()
            getattr(self, f"_on_{self._state}")(c, final)

    def _flush(self) -> list[Output]:
        merged: list[Output] = []
        for item in self._out:
            if merged and type(item) is type(merged[-1]) and isinstance(item, Text | ArgsDelta):
                merged[-1].text += item.text  # type: ignore[union-attr]
            else:
                merged.append(item)
        self._out = []
        return [o for o in merged if not (isinstance(o, Text | ArgsDelta) and not o.text)]

    def _emit_text(self, text: str) -> None:
        if not text:
            return
        if not self._known and not self.calls:
            self._out.append(Text(text))
            return
        if text.isspace():
            self._ws += text
            return
        self._out.append(Text(text if self._after_call else self._ws + text))
        self._text_seen = True
        self._ws = ""
        self._after_call = False

    def _reset_to_text(self) -> None:
        self._state = "text"
        self._hold = self._raw = self._name = self._string_args = self._trailer = ""
        self._fence = self._bare = self._committed = self._escape = self._in_string = self._array = False
        self._step = self._lit = self._depth = 0
        self._opener = self._lit_text = ""

    def _release(self, final: bool) -> None:
        """The opener was not a call: its first character is text, re-read the rest."""
        raw = self._raw
        self._reset_to_text()
        self._emit_text(raw[0])
        self._pending.extendleft(reversed(raw[1:]))

    def _on_text(self, c: str, final: bool) -> None:
        hold = self._hold + c
        if hold == "{" and self._known and not self._text_seen:
            self._start("header", "", fence=False)
            self._bare = True
            self._pending.appendleft("{")
        elif hold in TAGS:
            self._start("header", hold, fence=False)
            self._opener = hold
        elif hold == FENCE:
            self._start("fence", FENCE, fence=True)
        elif FENCE.startswith(hold) or any(tag.startswith(hold) for tag in TAGS):
            self._hold = hold
        else:
            self._hold = ""
            self._emit_text(hold[0])
            self._pending.extendleft(reversed(hold[1:]))

    def _start(self, state: str, opener: str, fence: bool) -> None:
        self._reset_to_text()
        self._state, self._raw, self._fence = state, opener, fence

    def _on_fence(self, c: str, final: bool) -> None:
        """After the backticks: an optional ``json`` tag, whitespace, then the header."""
        self._raw += c
        lang = self._raw[len(FENCE) :]
        word = lang.rstrip()
        if c == "{" and word[:-1].strip() in ("", "json"):
            self._state = "header"
            self._pending.appendleft("{")
            self._raw = self._raw[:-1]
        elif not ("json".startswith(word) or (word.startswith("json") and not word[4:].strip())):
            self._release(final)

    def _on_header(self, c: str, final: bool) -> None:
        self._raw += c
        step = _HEADER[self._step]
        if step is _WS:
            if c.isspace():
                return
            if c == "[" and self._step == 0 and self._opener and not self._array:
                self._array = True
                return
            if self._step == 0 and self._opener == MISTRAL_OPEN and not self._array and c not in "{[":
                self._state, self._name = "name", c  # [TOOL_CALLS]name[ARGS]{...}
                return
            self._step += 1
            self._raw = self._raw[:-1]
            if self._step == len(_HEADER):
                self._state = "args"
                self._pending.appendleft(c)
                return
            self._pending.appendleft(c)
        elif step is _NAME:
            if self._escape:
                self._escape = False
                self._name += c
            elif c == "\\":
                self._escape = True
                self._name += c
            elif c == '"':
                self._name = _decode_string(self._name)
                if (self._fence or self._bare) and self._name not in self._known:
                    self._release(final)
                    return
                self._step += 1
                self._commit()
            else:
                self._name += c
        else:
            options = step if isinstance(step, tuple) else (step,)
            text = self._lit_text + c
            if not any(isinstance(o, str) and o.startswith(text) for o in options):
                self._bad_header(final)
                return
            self._lit_text = text
            if text in options:
                self._lit_text = ""
                self._step += 1

    def _on_name(self, c: str, final: bool) -> None:
        """A bare name up to ``[ARGS]``, then the arguments."""
        self._raw += c
        self._name += c
        if self._name.endswith(MISTRAL_ARGS):
            self._name = self._name[: -len(MISTRAL_ARGS)].strip()
            if not self._name or (self._known and self._name not in self._known):
                self._release(final)
                return
            self._commit()
            self._state = "args"
        elif c in "\n{}\"" or len(self._name) > _MAX_NAME:
            self._release(final)

    def _commit(self) -> None:
        self._committed = True
        self._ws = ""
        self.calls += 1
        self._out.append(CallStart(self._name))

    def _bad_header(self, final: bool) -> None:
        if not self._committed:
            self._release(final)
            return
        # A call with a name but no recognisable arguments: give it empty ones.
        self._out.append(ArgsDelta("{}"))
        self._state = "trailer"
        self._pending.appendleft(self._raw[-1])

    def _on_args(self, c: str, final: bool) -> None:
        if self._depth == 0 and not self._in_string and not self._string_args:
            if c == '"':
                self._string_args = '"'
                self._in_string = True
                return
            if c not in "{[":
                self._out.append(ArgsDelta("{}"))
                self._state = "trailer"
                self._pending.appendleft(c)
                return
        if self._string_args:
            self._on_string_args(c)
            return
        self._out.append(ArgsDelta(c))
        if self._in_string:
            if self._escape:
                self._escape = False
            elif c == "\\":
                self._escape = True
            elif c == '"':
                self._in_string = False
        elif c == '"':
            self._in_string = True
        elif c in "{[":
            self._depth += 1
        elif c in "}]":
            self._depth -= 1
            if self._depth == 0:
                self._state = "trailer"

    def _on_string_args(self, c: str) -> None:
        """Arguments sent as a JSON string holding JSON: buffered, then decoded."""
        self._string_args += c
        if self._escape:
            self._escape = False
        elif c == "\\":
            self._escape = True
        elif c == '"':
            self._out.append(ArgsDelta(_decode_string(self._string_args[1:-1])))
            self._string_args = ""
            self._in_string = False
            self._state = "trailer"

    def _on_trailer(self, c: str, final: bool) -> None:
        """After the arguments: the object's ``}``, whitespace, then the closer."""
        closer = FENCE if self._fence else "" if self._bare else TAGS[self._opener]
        trailer = self._trailer + c
        if self._array and c in ",]" and not trailer[:-1].lstrip("} \t\r\n"):
            opener = self._opener
            self._end_call()
            if c == ",":
                self._start("header", ",", fence=False)
                self._opener, self._array = opener, True
            return
        if closer.startswith(trailer.lstrip("} \t\r\n")):
            self._trailer = trailer
            if closer and trailer.lstrip("} \t\r\n") == closer:
                self._end_call()
            return
        self._end_call()
        self._pending.extendleft(reversed(trailer.lstrip("} \t\r\n")))

    def _end_call(self) -> None:
        self._out.append(CallEnd())
        self._reset_to_text()
        self._after_call = True
        self._text_seen = False


def _decode_string(body: str) -> str:
    try:
        value = json.loads(f'"{body}"')
    except json.JSONDecodeError:
        return body
    return value if isinstance(value, str) else body
