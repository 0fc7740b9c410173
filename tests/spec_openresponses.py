"""Validate JSON objects against the Open Responses OpenAPI schemas.

``validate_open_responses(obj, "ResponseResource")`` checks ``obj`` against
``#/components/schemas/ResponseResource`` of ``openresponses-openapi.json`` in the spec
directory (OpenAPI 3.1, so JSON Schema Draft 2020-12; ``discriminator`` is ignored).
``validate_open_responses_event`` picks the event's schema by its ``type``.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.spec_dir import SPEC_DIR

SPEC_PATH = SPEC_DIR / "openresponses-openapi.json"
_URI = "urn:switchyard:openresponses-openapi"


@functools.cache
def _registry() -> tuple[Registry, dict[str, Any]]:
    document = json.loads(SPEC_PATH.read_text())
    resource = Resource.from_contents(document, default_specification=DRAFT202012)
    return Registry().with_resource(_URI, resource), document["components"]["schemas"]


@functools.cache
def _validator(schema_name: str) -> jsonschema.Draft202012Validator:
    registry, schemas = _registry()
    if schema_name not in schemas:
        raise AssertionError(f"no schema named {schema_name!r} in {SPEC_PATH.name}")
    schema = {"$ref": f"{_URI}#/components/schemas/{schema_name}"}
    return jsonschema.Draft202012Validator(schema, registry=registry)


@functools.cache
def event_schemas() -> dict[str, str]:
    """Streaming event ``type`` → the name of its schema."""
    _, schemas = _registry()
    out = {}
    for name, schema in schemas.items():
        if name.endswith("StreamingEvent"):
            out[schema["properties"]["type"]["enum"][0]] = name
    return out


def validate_open_responses(obj: Any, schema_name: str) -> None:
    """Raise AssertionError listing every place where ``obj`` breaks the schema."""
    errors = sorted(_validator(schema_name).iter_errors(obj), key=lambda e: list(e.path))
    if errors:
        lines = [
            f"  at {'/'.join(str(p) for p in e.absolute_path) or '<root>'}: {e.message[:300]}"
            for e in errors
        ]
        raise AssertionError(f"object does not match Open Responses {schema_name}:\n" + "\n".join(lines))


def validate_open_responses_event(event: dict[str, Any]) -> None:
    """A streaming event against the schema its ``type`` names; an event type the spec
    does not define is an error."""
    name = event_schemas().get(event.get("type", ""))
    if name is None:
        raise AssertionError(f"event type {event.get('type')!r} is not an Open Responses streaming event")
    validate_open_responses(event, name)
