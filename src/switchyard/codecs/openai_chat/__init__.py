"""OpenAI Chat Completions ⇄ the canonical model.

Client side: ``decode_request`` (+ ``decode_stream_options``), ``encode_result``,
``ChunkEncoder``, ``error_body``. Upstream side: ``encode_request``, ``decode_response``,
``ChunkDecoder``, ``error_from_body``."""

from switchyard.codecs.openai_chat.chunks_in import ChunkDecoder
from switchyard.codecs.openai_chat.chunks_out import ChunkEncoder
from switchyard.codecs.openai_chat.request_in import decode_request, decode_stream_options
from switchyard.codecs.openai_chat.request_out import encode_messages, encode_request
from switchyard.codecs.openai_chat.response_in import decode_response
from switchyard.codecs.openai_chat.result_out import encode_result
from switchyard.codecs.openai_chat.wire import error_body, error_from_body, usage_out

__all__ = [
    "ChunkDecoder",
    "ChunkEncoder",
    "decode_request",
    "decode_response",
    "decode_stream_options",
    "encode_messages",
    "encode_request",
    "encode_result",
    "error_body",
    "error_from_body",
    "usage_out",
]
