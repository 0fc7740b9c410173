"""The contract every backend implements."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol, runtime_checkable

from switchyard.core.audio import SpeechRequest, TranscriptEvent, TranscriptionRequest
from switchyard.core.events import Event
from switchyard.core.request import Request


class Support(StrEnum):
    NATIVE = "native"  # sent under the same name and meaning
    TRANSLATED = "translated"  # sent as the backend's equivalent (``how`` says what)
    IMPLICIT = "implicit"  # nothing to send: the backend does it by its nature (``how`` says why)
    UNSUPPORTED = "unsupported"  # a meaningful value is refused (or dropped with ``drop_params``)


@dataclass(frozen=True, slots=True)
class ParamSupport:
    support: Support
    how: str = ""
    values: frozenset[str] | None = None
    """When set, only these values are supported; the others are refused."""

    def accepts(self, value: object) -> bool:
        if self.support is Support.UNSUPPORTED:
            return False
        return self.values is None or value in self.values


def native(how: str = "") -> ParamSupport:
    return ParamSupport(Support.NATIVE, how)


def translated(how: str, values: frozenset[str] | None = None) -> ParamSupport:
    return ParamSupport(Support.TRANSLATED, how, values)


def implicit(how: str, values: frozenset[str] | None = None) -> ParamSupport:
    return ParamSupport(Support.IMPLICIT, how, values)


def unsupported(why: str) -> ParamSupport:
    return ParamSupport(Support.UNSUPPORTED, why)


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a backend can do natively; the layers above fill the gaps or refuse.
    ``parameters`` maps every canonical parameter (``core.parameters``) to how this
    backend treats a meaningful value of it; a parameter it does not list is unsupported."""

    json_schema: bool = False  # enforces response_format json_schema / strict tools itself
    vision: bool = False
    parameters: Mapping[str, ParamSupport] = field(default_factory=dict)

    def support(self, name: str) -> ParamSupport:
        return self.parameters.get(name) or ParamSupport(Support.UNSUPPORTED, "not supported by this backend")


@dataclass(frozen=True, slots=True)
class Embeddings:
    vectors: list[list[float]]
    input_tokens: int


class Embedder(Protocol):
    """A backend that turns texts into vectors (``ModelConfig.task == "embedding"``)."""

    dimensions: int

    async def embed(self, texts: list[str], dimensions: int | None = None) -> Embeddings: ...

    async def aclose(self) -> None: ...


class Transcriber(Protocol):
    """A speech-to-text backend (``task: transcription``). ``transcribe`` yields the segments
    as they are recognised and one ``TranscriptInfo`` (language, duration); it raises
    ``SwitchyardError`` for audio it cannot read before yielding anything."""

    def transcribe(self, request: TranscriptionRequest) -> AsyncIterator[TranscriptEvent]: ...

    async def aclose(self) -> None: ...


class Speaker(Protocol):
    """A text-to-speech backend (``task: speech``): the audio of ``request.input``, encoded in
    ``request.response_format``, in chunks as it is synthesised. ``check`` refuses a request
    (an unknown voice, a speed out of range) before anything is sent."""

    def check(self, request: SpeechRequest) -> None: ...

    def speak(self, request: SpeechRequest) -> AsyncIterator[bytes]: ...

    async def aclose(self) -> None: ...


class Provider(Protocol):
    """One configured backend model. ``generate`` streams canonical events:
    ``Start`` first, then blocks, ``UsageReport`` and one ``Finish`` per choice;
    or ``Failure`` (or a raised ``SwitchyardError`` before anything was sent)."""

    capabilities: Capabilities

    def generate(self, request: Request) -> AsyncIterator[Event]: ...

    async def count_tokens(self, request: Request) -> int: ...

    async def aclose(self) -> None: ...


@runtime_checkable
class PartialSchemaEnforcement(Protocol):
    """A backend whose constrained decoding enforces only part of a JSON schema
    (``Capabilities.json_schema`` true): ``unenforced`` names the keywords it leaves
    unchecked for a request, which the engine then validates after generation."""

    def unenforced(self, request: Request) -> list[str]: ...
