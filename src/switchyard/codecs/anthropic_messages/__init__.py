"""The Anthropic Messages API, both directions.

Client side (Switchyard serves ``/v1/messages``): ``decode_request``, ``encode_result``,
``StreamEncoder``, ``ping_event``, ``error_body``.
Upstream side (Switchyard calls Anthropic): ``encode_request``, ``decode_response``,
``StreamDecoder``, ``error_from_wire``.
"""

from switchyard.codecs.anthropic_messages.client_request import decode_request
from switchyard.codecs.anthropic_messages.client_result import encode_result
from switchyard.codecs.anthropic_messages.client_stream import StreamEncoder, ping_event
from switchyard.codecs.anthropic_messages.upstream_request import encode_request
from switchyard.codecs.anthropic_messages.upstream_response import decode_response
from switchyard.codecs.anthropic_messages.upstream_stream import StreamDecoder
from switchyard.codecs.anthropic_messages.wire import error_body, error_from_wire

__all__ = [
    "StreamDecoder",
    "StreamEncoder",
    "decode_request",
    "decode_response",
    "encode_request",
    "encode_result",
    "error_body",
    "error_from_wire",
    "ping_event",
]
