"""Speech in and out, in the canonical model: a transcription request over an audio file on
disk and the transcript it yields segment by segment; a speech request and the encoded audio
it yields chunk by chunk.

A transcript is the fold of its segments, so streaming and non-streaming transcriptions share
one code path, as model turns do with their events. A backend that streams text without
timings (an upstream's ``transcript.text.delta``) yields ``TranscriptText`` pieces instead,
and the usage it reports as ``TranscriptUsage``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from switchyard.core.usage import Usage

TranscriptFormat = Literal["json", "text", "srt", "verbose_json", "vtt"]
SpeechFormat = Literal["mp3", "opus", "aac", "flac", "wav", "pcm"]
Task = Literal["transcribe", "translate"]

TRANSCRIPT_FORMATS: tuple[TranscriptFormat, ...] = ("json", "text", "srt", "verbose_json", "vtt")
SPEECH_FORMATS: tuple[SpeechFormat, ...] = ("mp3", "opus", "aac", "flac", "wav", "pcm")


@dataclass(frozen=True, slots=True)
class AudioFile:
    """An uploaded audio file, streamed to disk (never held whole in memory)."""

    path: Path
    filename: str
    content_type: str | None
    size: int


@dataclass(frozen=True, slots=True)
class TranscriptionRequest:
    model: str
    file: AudioFile
    task: Task = "transcribe"
    response_format: TranscriptFormat = "json"
    language: str | None = None
    prompt: str | None = None
    temperature: float = 0.0
    words: bool = False  # timestamp_granularities[] has "word"
    stream: bool = False


@dataclass(frozen=True, slots=True)
class Word:
    word: str
    start: float
    end: float


@dataclass(frozen=True, slots=True)
class Segment:
    id: int
    seek: int
    start: float
    end: float
    text: str
    tokens: tuple[int, ...] = ()
    temperature: float = 0.0
    avg_logprob: float = 0.0
    compression_ratio: float = 0.0
    no_speech_prob: float = 0.0
    words: tuple[Word, ...] = ()


@dataclass(frozen=True, slots=True)
class TranscriptInfo:
    """What is known once the audio is opened: its language (detected or given) and length."""

    language: str
    duration: float


@dataclass(frozen=True, slots=True)
class TranscriptText:
    """A piece of transcript text as a streaming backend sends it, with no timings."""

    text: str


@dataclass(frozen=True, slots=True)
class TranscriptUsage:
    """The tokens a backend reports the transcription used (token-billed models)."""

    usage: Usage
    audio_tokens: int | None = None
    text_tokens: int | None = None


@dataclass(slots=True)
class Transcript:
    language: str = ""
    duration: float = 0.0
    segments: list[Segment] = field(default_factory=list)
    pieces: list[str] = field(default_factory=list)  # streamed text without timings
    usage: TranscriptUsage | None = None

    @property
    def text(self) -> str:
        return ("".join(segment.text for segment in self.segments) + "".join(self.pieces)).strip()

    @property
    def words(self) -> list[Word]:
        return [word for segment in self.segments for word in segment.words]


TranscriptEvent = TranscriptInfo | Segment | TranscriptText | TranscriptUsage


def fold(events: list[TranscriptEvent]) -> Transcript:
    transcript = Transcript()
    for event in events:
        add(transcript, event)
    return transcript


def add(transcript: Transcript, event: TranscriptEvent) -> None:
    if isinstance(event, TranscriptInfo):
        transcript.language, transcript.duration = event.language, event.duration
    elif isinstance(event, TranscriptText):
        transcript.pieces.append(event.text)
    elif isinstance(event, TranscriptUsage):
        transcript.usage = event
    else:
        transcript.segments.append(event)


@dataclass(frozen=True, slots=True)
class SpeechRequest:
    model: str
    input: str
    voice: str
    response_format: SpeechFormat = "mp3"
    speed: float = 1.0
    instructions: str | None = None
    sse: bool = False  # stream_format "sse"
    custom_voice: bool = False  # voice given as {"id": ...}
