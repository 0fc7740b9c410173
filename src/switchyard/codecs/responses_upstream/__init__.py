"""Canonical model ⇄ an upstream that speaks the OpenAI Responses API. The
upstream is used statelessly (``store: false``, the whole context every turn):
Switchyard keeps the state itself."""

from switchyard.codecs.responses_upstream.request_out import encode_request
from switchyard.codecs.responses_upstream.stream_in import EventDecoder, decode_response

__all__ = ["EventDecoder", "decode_response", "encode_request"]
