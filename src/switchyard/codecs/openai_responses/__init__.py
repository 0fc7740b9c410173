"""OpenAI Responses ⇄ the canonical model (client side).

``decode_request`` validates a create body into a ``ResponsesCall`` (input items
normalised to stored wire items); ``items_to_canonical`` turns stored wire items into
canonical items; ``build_response`` makes the wire ``Response``; ``ResponsesStreamEncoder``
makes the stream events (and ``output``); ``encode_error`` the HTTP error body.

Conventions: item ids are minted by the injected ``new_item_id(prefix)`` with prefixes
``msg_``, ``fc_``, ``fco_`` (function_call_output), ``rs_``, ``mcpl_``, ``mcp_``, ``mcpr_``,
``mcpa_`` (mcp_approval_response); a reasoning signature travels in ``encrypted_content``
(see ``opaque``)."""

from switchyard.codecs.openai_responses.builtin_out import builtin_item, mcp_error
from switchyard.codecs.openai_responses.call import McpToolConfig, NewItemId, ResponsesCall, random_item_id
from switchyard.codecs.openai_responses.compaction import pack_summary, unpack_summary
from switchyard.codecs.openai_responses.input_in import normalize_items
from switchyard.codecs.openai_responses.items_in import items_to_canonical
from switchyard.codecs.openai_responses.items_out import items_to_output
from switchyard.codecs.openai_responses.opaque import pack as pack_encrypted_content
from switchyard.codecs.openai_responses.opaque import unpack as unpack_encrypted_content
from switchyard.codecs.openai_responses.request_in import decode_request
from switchyard.codecs.openai_responses.response_out import build_response, encode_error, response_error, usage_out
from switchyard.codecs.openai_responses.stream_out import ResponsesStreamEncoder
from switchyard.codecs.openai_responses.tools_in import strict_compatible

__all__ = [
    "McpToolConfig",
    "NewItemId",
    "ResponsesCall",
    "ResponsesStreamEncoder",
    "build_response",
    "builtin_item",
    "decode_request",
    "encode_error",
    "items_to_canonical",
    "items_to_output",
    "mcp_error",
    "normalize_items",
    "pack_encrypted_content",
    "pack_summary",
    "random_item_id",
    "response_error",
    "strict_compatible",
    "unpack_encrypted_content",
    "unpack_summary",
    "usage_out",
]
