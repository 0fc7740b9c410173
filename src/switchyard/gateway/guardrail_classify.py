"""One screening by a project's moderation guardrail: the texts (and images) classified by
its moderation model, and the categories flagged among those the project counts. Shared by
the input guardrail (``guardrail.py``) and the output one (``output_guardrail.py``)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from switchyard.core.errors import ErrorKind, SwitchyardError
from switchyard.core.moderation import ModerationInput
from switchyard.gateway.grants import GuardrailPolicy
from switchyard.gateway.telemetry.request_trace import RequestTrace

log = logging.getLogger("switchyard.guardrail")


async def classify(trace: RequestTrace, policy: GuardrailPolicy, mode: str, what: str,
                   inputs_of: Callable[[bool], list[ModerationInput]]) -> tuple[str, list[str]] | None:
    """The moderation model's name and the categories it flagged among those the policy
    counts; None when there was nothing to classify or the model could not answer (logged).
    ``inputs_of(images)``: what to classify, with images or not (as the model can). In
    ``block`` mode a model that cannot answer fails closed (503 ``guardrail_unavailable``)."""
    models = trace.services.moderation
    if models is None:
        return None
    name = policy.model or models.default_name()
    try:
        if name is None:
            raise SwitchyardError(ErrorKind.SERVER, "no moderation model is configured", code="model_not_configured")
        inputs = inputs_of(models.takes_images(name))
        if not inputs:
            return None
        config, verdicts = await models.moderate(name, inputs)
    except SwitchyardError as error:
        log.warning("moderation guardrail could not run: request=%s project=%s mode=%s model=%s error=%s",
                    trace.request_id, trace.project_id, mode, name, error.message)
        if mode == "block":
            raise SwitchyardError(
                ErrorKind.OVERLOADED, f"The project's moderation guardrail could not check the {what}: "
                f"{error.message}", code="guardrail_unavailable") from error
        return None
    hits = sorted({c for v in verdicts for c in v.flagged_categories()
                   if policy.categories is None or c in policy.categories})
    if hits:
        log.warning("moderation guardrail flagged %s: request=%s project=%s mode=%s model=%s categories=%s",
                    what, trace.request_id, trace.project_id, mode, config.name, ",".join(hits))
    return config.name, hits
