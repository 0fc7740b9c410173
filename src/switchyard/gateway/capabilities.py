"""What a model with several deployments can do: what every one of them can do, so
that a request accepted for the model can fail over to any deployment."""

from __future__ import annotations

from collections.abc import Sequence

from switchyard.providers.base import Capabilities, ParamSupport, Support


def _common(supports: list[ParamSupport]) -> ParamSupport:
    refused = next((s for s in supports if s.support is Support.UNSUPPORTED), None)
    if refused is not None:
        return refused
    primary = supports[0]
    limited = [s.values for s in supports if s.values is not None]
    if not limited:
        return primary
    values = frozenset.intersection(*limited)
    return ParamSupport(primary.support, primary.how, values)


def intersect(capabilities: Sequence[Capabilities]) -> Capabilities:
    """The first entry is the primary deployment's: where all accept a parameter, its
    description (``how``) is the one reported."""
    if len(capabilities) == 1:
        return capabilities[0]
    names = {name for c in capabilities for name in c.parameters}
    return Capabilities(
        json_schema=all(c.json_schema for c in capabilities),
        vision=all(c.vision for c in capabilities),
        parameters={name: _common([c.support(name) for c in capabilities]) for name in sorted(names)},
    )
