"""A realtime session's configuration: read from ``session.update`` (and from a client
secret's ``session``) field by field onto the current one, and written back as the GA
session object of ``session.created`` / ``session.updated``."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

from switchyard.codecs.openai_chat.fields import arr, join, obj, one_of, opt_bool, opt_int, opt_num, opt_str, req_str
from switchyard.codecs.openai_realtime.g711 import FORMATS, Format
from switchyard.core.errors import invalid, unsupported
from switchyard.core.request import Tool, ToolChoice

Modality = Literal["text", "audio"]
Kind = Literal["realtime", "transcription"]
Eagerness = Literal["low", "medium", "high", "auto"]
RATE = 24_000  # the only PCM rate of the GA protocol
DEFAULT_INSTRUCTIONS = "You are a helpful, friendly assistant. Keep your answers short and conversational."
VOICES = ("alloy", "ash", "ballad", "coral", "echo", "fable", "onyx", "nova", "sage", "shimmer", "verse", "marin",
          "cedar")
# OpenAI's GA defaults for server VAD
DEFAULT_THRESHOLD, DEFAULT_PREFIX_MS, DEFAULT_SILENCE_MS = 0.5, 300, 500


@dataclass(frozen=True, slots=True)
class Vad:
    """``turn_detection``: ``server_vad`` with its settings, or ``semantic_vad`` (the same
    energy detector with the defaults, its end-of-turn wait chosen by ``eagerness``)."""

    type: Literal["server_vad", "semantic_vad"] = "server_vad"
    eagerness: Eagerness = "auto"
    threshold: float = DEFAULT_THRESHOLD
    prefix_padding_ms: int = DEFAULT_PREFIX_MS
    silence_duration_ms: int = DEFAULT_SILENCE_MS
    create_response: bool = True
    interrupt_response: bool = True
    idle_timeout_ms: int | None = None


@dataclass(frozen=True, slots=True)
class Transcription:
    """``audio.input.transcription``: the user's speech transcribed for the client."""

    model: str
    language: str | None = None
    prompt: str | None = None


@dataclass(frozen=True, slots=True)
class SessionConfig:
    model: str  # the chat model; "" in a transcription session
    kind: Kind = "realtime"
    instructions: str = DEFAULT_INSTRUCTIONS
    output_modalities: tuple[Modality, ...] = ("audio",)
    tools: tuple[Tool, ...] = ()
    tools_wire: tuple[dict[str, Any], ...] = ()
    tool_choice: ToolChoice = field(default_factory=ToolChoice)
    tool_choice_wire: str | dict[str, Any] = "auto"
    max_output_tokens: int | None = None  # None: "inf"
    voice: str = "alloy"
    speed: float = 1.0
    transcription: Transcription | None = None
    turn_detection: Vad | None = field(default_factory=Vad)
    parallel_tool_calls: bool | None = None
    input_format: Format = "audio/pcm"
    output_format: Format = "audio/pcm"

    @property
    def audio_out(self) -> bool:
        return "audio" in self.output_modalities


def _modalities(raw: object, path: str) -> tuple[Modality, ...]:
    values = arr(raw, path)
    if len(values) != 1:
        raise invalid(f"Invalid '{path}': give exactly one of 'text' or 'audio' (both at once is not possible).",
                      path, "invalid_value")
    value = values[0]
    if not isinstance(value, str):
        raise invalid(f"Invalid type for '{path}[0]': expected a string.", f"{path}[0]", "invalid_type")
    return ("audio",) if one_of(value, ("text", "audio"), f"{path}[0]") == "audio" else ("text",)


def decode_tools(raw: object, path: str) -> tuple[tuple[Tool, ...], tuple[dict[str, Any], ...]]:
    tools: list[Tool] = []
    wire: list[dict[str, Any]] = []
    names: set[str] = set()
    for i, entry in enumerate(arr(raw, path)):
        here = join(path, i)
        tool = obj(entry, here)
        kind = req_str(tool, "type", here)
        if kind == "mcp":
            raise unsupported(join(here, "type"), "MCP tools are not available on realtime sessions here")
        one_of(kind, ("function",), join(here, "type"))
        name = req_str(tool, "name", here)
        if name in names:
            raise invalid(f"Invalid '{join(here, 'name')}': the function name '{name}' is used twice.",
                          join(here, "name"), "invalid_value")
        names.add(name)
        description = opt_str(tool, "description", here)
        parameters = tool.get("parameters")
        params = obj(parameters, join(here, "parameters")) if parameters is not None else {
            "type": "object", "properties": {}}
        tools.append(Tool(name=name, description=description, parameters=params))
        wire.append({"type": "function", "name": name, "description": description or "", "parameters": params})
    return tuple(tools), tuple(wire)


def decode_tool_choice(raw: object, tools: tuple[Tool, ...], path: str) -> tuple[ToolChoice, str | dict[str, Any]]:
    if isinstance(raw, str):
        mode = one_of(raw, ("none", "auto", "required"), path)
        return ToolChoice(mode=mode), mode  # type: ignore[arg-type]
    choice = obj(raw, path)
    kind = one_of(req_str(choice, "type", path), ("function",), join(path, "type"))
    name = req_str(choice, "name", path)
    if not any(tool.name == name for tool in tools):
        raise invalid(f"Invalid value for '{join(path, 'name')}': no function named '{name}' is in 'tools'.",
                      join(path, "name"), "invalid_value")
    return ToolChoice(mode="tool", name=name), {"type": kind, "name": name}


def decode_max_tokens(raw: object, path: str) -> int | None:
    if raw == "inf":
        return None
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    if isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= 4096:
        raise invalid(f"Invalid '{path}': expected an integer from 1 to 4096 or 'inf'.", path, "invalid_value")
    return raw


def decode_format(raw: object, path: str) -> Format:
    fmt = obj(raw, path)
    kind = one_of(opt_str(fmt, "type", path) or "audio/pcm", FORMATS, join(path, "type"))
    rate = opt_int(fmt, "rate", path)
    if rate is not None and (kind != "audio/pcm" or rate != RATE):
        raise invalid(f"Invalid '{join(path, 'rate')}': only 'audio/pcm' has a rate, and only {RATE}.",
                      join(path, "rate"), "invalid_value")
    return kind  # type: ignore[return-value]


def decode_vad(raw: object, path: str) -> Vad | None:
    if raw is None:
        return None
    vad = obj(raw, path)
    kind = one_of(req_str(vad, "type", path), ("server_vad", "semantic_vad"), join(path, "type"))
    create = opt_bool(vad, "create_response", path)
    interrupt = opt_bool(vad, "interrupt_response", path)
    common = {"create_response": True if create is None else create,
              "interrupt_response": True if interrupt is None else interrupt}
    if kind == "semantic_vad":
        for name in ("threshold", "prefix_padding_ms", "silence_duration_ms", "idle_timeout_ms"):
            if vad.get(name) is not None:
                raise invalid(f"Unknown parameter: '{join(path, name)}' (semantic_vad has no {name}).",
                              join(path, name), "unknown_parameter")
        eagerness = one_of(opt_str(vad, "eagerness", path) or "auto", ("low", "medium", "high", "auto"),
                           join(path, "eagerness"))
        return Vad(type="semantic_vad", eagerness=eagerness, **common)  # type: ignore[arg-type]
    if vad.get("eagerness") is not None:
        raise invalid(f"Unknown parameter: '{join(path, 'eagerness')}' (only semantic_vad has it).",
                      join(path, "eagerness"), "unknown_parameter")
    threshold = opt_num(vad, "threshold", path, lo=0.0, hi=1.0)
    prefix = opt_int(vad, "prefix_padding_ms", path, lo=0, hi=10_000)
    silence = opt_int(vad, "silence_duration_ms", path, lo=10, hi=10_000)
    idle = opt_int(vad, "idle_timeout_ms", path, lo=5000, hi=30_000)
    return Vad(threshold=DEFAULT_THRESHOLD if threshold is None else float(threshold),
               prefix_padding_ms=DEFAULT_PREFIX_MS if prefix is None else prefix,
               silence_duration_ms=DEFAULT_SILENCE_MS if silence is None else silence,
               idle_timeout_ms=idle, **common)  # type: ignore[arg-type]


def decode_transcription(raw: object, path: str, default_model: str) -> Transcription | None:
    if raw is None:
        return None
    spec = obj(raw, path)
    return Transcription(model=opt_str(spec, "model", path) or default_model,
                         language=opt_str(spec, "language", path), prompt=opt_str(spec, "prompt", path))


def decode_voice(raw: object, path: str) -> str:
    if isinstance(raw, dict):
        raise unsupported(path, "custom voices are not available; choose one of the named voices")
    if not isinstance(raw, str):
        raise invalid(f"Invalid type for '{path}': expected a string.", path, "invalid_type")
    return raw


def _audio(config: SessionConfig, raw: object, path: str, default_stt: str) -> dict[str, Any]:
    audio = obj(raw, path)
    changes: dict[str, Any] = {}
    if audio.get("input") is not None:
        here = join(path, "input")
        given = obj(audio["input"], here)
        if given.get("format") is not None:
            changes["input_format"] = decode_format(given["format"], join(here, "format"))
        if "transcription" in given:
            changes["transcription"] = decode_transcription(given["transcription"], join(here, "transcription"),
                                                            default_stt)
        if "turn_detection" in given:
            changes["turn_detection"] = decode_vad(given["turn_detection"], join(here, "turn_detection"))
        if given.get("noise_reduction") is not None:
            obj(given["noise_reduction"], join(here, "noise_reduction"))  # accepted, not applied
    if audio.get("output") is not None:
        here = join(path, "output")
        if config.kind == "transcription":
            raise invalid(f"Unknown parameter: '{here}' (a transcription session has no output).", here,
                          "unknown_parameter")
        given = obj(audio["output"], here)
        if given.get("format") is not None:
            changes["output_format"] = decode_format(given["format"], join(here, "format"))
        if given.get("voice") is not None:
            changes["voice"] = decode_voice(given["voice"], join(here, "voice"))
        speed = opt_num(given, "speed", here, lo=0.25, hi=1.5)
        if speed is not None:
            changes["speed"] = float(speed)
    return changes


_TRANSCRIPTION_FIELDS = ("type", "audio", "include", "object", "id", "expires_at")


def apply_update(config: SessionConfig, raw: object, path: str = "session", *,
                 default_stt: str = "whisper-1") -> SessionConfig:
    """``config`` with the fields of a ``session`` object applied; the fields it leaves out
    keep their values. A bad field raises ``SwitchyardError`` naming it. A session's type
    is fixed when it opens."""
    session = obj(raw, path)
    kind = opt_str(session, "type", path)
    if kind is not None and one_of(kind, ("realtime", "transcription"), join(path, "type")) != config.kind:
        raise invalid(f"Invalid value for '{join(path, 'type')}': this is a {config.kind} session, and a "
                      "session's type cannot change (open a transcription session with ?intent=transcription "
                      "or a client secret made for one).", join(path, "type"), "invalid_value")
    include = session.get("include")
    if include is not None and arr(include, join(path, "include")):
        raise unsupported(join(path, "include"), "transcription logprobs are not available here")
    if config.kind == "transcription":
        return _transcription_update(config, session, path, default_stt)
    changes: dict[str, Any] = {}
    model = opt_str(session, "model", path)
    if model is not None:
        changes["model"] = model
    instructions = opt_str(session, "instructions", path)
    if instructions is not None:
        changes["instructions"] = instructions
    if session.get("output_modalities") is not None:
        changes["output_modalities"] = _modalities(session["output_modalities"], join(path, "output_modalities"))
    tools = config.tools
    if session.get("tools") is not None:
        tools, wire = decode_tools(session["tools"], join(path, "tools"))
        changes["tools"], changes["tools_wire"] = tools, wire
    if session.get("tool_choice") is not None:
        changes["tool_choice"], changes["tool_choice_wire"] = decode_tool_choice(
            session["tool_choice"], tools, join(path, "tool_choice"))
    if session.get("max_output_tokens") is not None:
        changes["max_output_tokens"] = decode_max_tokens(session["max_output_tokens"], join(path, "max_output_tokens"))
    if session.get("audio") is not None:
        changes.update(_audio(config, session["audio"], join(path, "audio"), default_stt))
    parallel = opt_bool(session, "parallel_tool_calls", path)
    if parallel is not None:
        changes["parallel_tool_calls"] = parallel
    if session.get("prompt") is not None:
        raise unsupported(join(path, "prompt"), "stored prompts are not available here")
    return dataclasses.replace(config, **changes)


def transcription_config(default_stt: str) -> SessionConfig:
    """A new transcription session: no chat model, every turn transcribed for the client."""
    return SessionConfig(model="", kind="transcription", output_modalities=("text",),
                         transcription=Transcription(model=default_stt))


def _transcription_update(config: SessionConfig, session: dict[str, Any], path: str,
                          default_stt: str) -> SessionConfig:
    for name in session:
        if name not in _TRANSCRIPTION_FIELDS and session[name] is not None:
            raise invalid(f"Unknown parameter: '{join(path, name)}' (a transcription session takes 'audio.input' "
                          "and 'include').", join(path, name), "unknown_parameter")
    if session.get("audio") is None:
        return config
    changes = _audio(config, session["audio"], join(path, "audio"), default_stt)
    if changes.get("transcription", config.transcription) is None:
        changes["transcription"] = Transcription(model=default_stt)  # transcribing is what the session is for
    return dataclasses.replace(config, **changes)


def _vad_wire(vad: Vad | None) -> dict[str, Any] | None:
    if vad is None:
        return None
    if vad.type == "semantic_vad":
        return {"type": "semantic_vad", "eagerness": vad.eagerness, "create_response": vad.create_response,
                "interrupt_response": vad.interrupt_response}
    return {"type": "server_vad", "threshold": vad.threshold, "prefix_padding_ms": vad.prefix_padding_ms,
            "silence_duration_ms": vad.silence_duration_ms, "idle_timeout_ms": vad.idle_timeout_ms,
            "create_response": vad.create_response, "interrupt_response": vad.interrupt_response}


def format_wire(fmt: str) -> dict[str, Any]:
    return {"type": "audio/pcm", "rate": RATE} if fmt == "audio/pcm" else {"type": fmt}


def _transcription_wire(spec: Transcription | None) -> dict[str, Any] | None:
    if spec is None:
        return None
    out: dict[str, Any] = {"model": spec.model}
    if spec.language is not None:
        out["language"] = spec.language
    if spec.prompt is not None:
        out["prompt"] = spec.prompt
    return out


def encode_session(config: SessionConfig, session_id: str, expires_at: int) -> dict[str, Any]:
    """The GA session object (``type: realtime``, or ``transcription``)."""
    audio_in = {"format": format_wire(config.input_format),
                "transcription": _transcription_wire(config.transcription),
                "noise_reduction": None, "turn_detection": _vad_wire(config.turn_detection)}
    if config.kind == "transcription":
        return {"type": "transcription", "object": "realtime.transcription_session", "id": session_id,
                "expires_at": expires_at, "include": None, "audio": {"input": audio_in}}
    return {
        "type": "realtime", "object": "realtime.session", "id": session_id, "model": config.model,
        "output_modalities": list(config.output_modalities), "instructions": config.instructions,
        "tools": [dict(tool) for tool in config.tools_wire], "tool_choice": config.tool_choice_wire,
        "max_output_tokens": "inf" if config.max_output_tokens is None else config.max_output_tokens,
        "tracing": None, "truncation": "auto", "prompt": None, "expires_at": expires_at, "include": None,
        "audio": {
            "input": audio_in,
            "output": {"format": format_wire(config.output_format), "voice": config.voice, "speed": config.speed},
        },
    }
