"""Turn `demo:naive` / `demo:hardened?without=breaker&break=2s` into a `TargetFile`.

The target starts the demo as `python -m gaplab.demo NAME --port {port} ...` with the SDK
pointed at the lab's mock provider; requests go to `POST /chat`. Both demos declare the
same contract (the naive one simply never uses most of it): fallback answers are marked
`"degraded": true`, refusals `"refused": true`, AI answers carry the header
`X-AI-Generated: true`, links may point only to the shop's own host, and a user who opted
out of AI processing is sent with `"ai_consent": false`. They declare the hardened demo's
caps and budget (`limits`, `budget.per_user_tokens_per_minute`: the numbers its
`input_limit`, `output_cap` and `quota` defences enforce, the defaults for naive, which
enforces none) and send a conversation turn's id as `conversation_id`. Unknown names or
options are an `InputError`.
"""

from __future__ import annotations

import sys
from urllib.parse import parse_qsl

from gaplab.demo.contract import CONSENT_FIELD, DISCLOSURE_HEADER, SHOP_HOST
from gaplab.demo.options import (
    DEFENCES,
    DEMO_DESCRIPTIONS,
    DEMO_NAMES,
    SPEC_OPTIONS,
    HardenedConfig,
    hardened_config,
)
from gaplab.errors import InputError
from gaplab.scenario.probe_models import (
    EnrichmentSpec,
    HealthSpec,
    KillSwitchSpec,
    MetricsSpec,
    WriteSpec,
)
from gaplab.scenario.target_models import (
    BudgetSpec,
    ContractSpec,
    DegradedSpec,
    DisclosureSpec,
    EndpointCall,
    LimitsSpec,
    OptOutSpec,
    ReadySpec,
    RequestSpec,
    ResponseSpec,
    SignalSpec,
    StartSpec,
    StreamSpec,
    TargetFile,
)

__all__ = ["DEFENCES", "DEMO_DESCRIPTIONS", "DEMO_NAMES", "demo_target", "parse_demo_spec"]

PREFIX = "demo:"
NON_AI_ENDPOINTS = (EndpointCall(http="GET /notes/1"),)
DEMO_RESPONSE = ResponseSpec.model_validate(
    {
        "answer": "$.answer",
        "degraded": DegradedSpec(field="$.degraded"),
        "refusal": SignalSpec(field="$.refused"),
        # The header, not the field: it is how a browser or a proxy can tell without
        # parsing the body, and the hardened demo sends `false` on answers no model wrote.
        "disclosure": DisclosureSpec.model_validate({"header": {DISCLOSURE_HEADER: "true"}}),
        "link_hosts": (SHOP_HOST,),
    }
)
OPT_OUT = OptOutSpec.model_validate({"json": {CONSENT_FIELD: False}})
# What the demos expose for the probed items. Both have a health endpoint and notes the AI
# summarises; only the hardened one has metrics and a kill switch, so the naive target
# does not declare them (those items are not_run for it, as for any service without).
HEALTH = HealthSpec.model_validate(
    {"http": "GET /health", "degraded": {"field": "$.status", "equals": "degraded"}}
)
WRITE = WriteSpec.model_validate({"http": "POST /notes", "json": {"text": "{input}"}})
ENRICHMENT = EnrichmentSpec.model_validate({"http": "POST /notes/{item}/enrich", "item": "$.id"})
METRICS = MetricsSpec.model_validate(
    {
        "http": "GET /metrics",
        "latency_histogram": "demo_ai_call_seconds",
        "tokens": {"input": "demo_ai_input_tokens_total", "output": "demo_ai_output_tokens_total"},
        "model_label": "model",
    }
)
KILL_SWITCH = KillSwitchSpec.model_validate(
    {
        "off": {"http": "POST /admin/ai", "json": {"enabled": False}},
        "on": {"http": "POST /admin/ai", "json": {"enabled": True}},
    }
)


def parse_demo_spec(spec: str) -> tuple[str, HardenedConfig | None]:
    """`("naive", None)` or `("hardened", config)`; raises `InputError` on anything else."""
    if not spec.startswith(PREFIX):
        raise InputError(f"{spec!r} is not a demo target (expected demo:naive or demo:hardened)")
    name, _, query = spec[len(PREFIX) :].partition("?")
    name = name.strip()
    if name not in DEMO_NAMES:
        raise InputError(
            f"unknown demo {name!r} in {spec!r}; bundled demos: "
            + ", ".join(f"demo:{n}" for n in DEMO_NAMES)
        )
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError:
        raise InputError(
            f"{spec!r}: options must look like ?without=breaker,fallback&break=2s"
        ) from None
    options: dict[str, str] = {}
    for key, value in pairs:
        if key in options:
            raise InputError(f"{spec!r}: option {key!r} is given twice")
        options[key] = value
    if name == "naive":
        if options:
            raise InputError(
                f"{spec!r}: demo:naive takes no options (it has no defences to switch off); "
                f"demo:hardened takes: {', '.join(SPEC_OPTIONS)}"
            )
        return name, None
    return name, hardened_config(options)


# Which endpoint of the demo a scenario drives (the scenario's `interface:`): the path, and
# what its answer looks like beyond the shared contract.
INTERFACE_PATHS: dict[str, str] = {"chat": "/chat", "stream": "/chat/stream", "json": "/triage"}


def demo_target(spec: str, interface: str = "chat") -> TargetFile:
    name, config = parse_demo_spec(spec)
    if interface not in INTERFACE_PATHS:
        raise InputError(
            f"unknown interface {interface!r}; the demos offer: {', '.join(INTERFACE_PATHS)}"
        )
    command = [sys.executable, "-m", "gaplab.demo", name, "--port", "{port}"]
    if config is not None:
        command += config.to_args()
    numbers = config or HardenedConfig()  # naive declares the same caps, and keeps none
    body = {"message": "{input}", "user_id": "{user}", "conversation_id": "{conversation}"}
    return TargetFile(
        name=spec,
        start=StartSpec(
            command=command,
            env={"OPENAI_BASE_URL": "{provider.openai_base_url}", "OPENAI_API_KEY": "lab-key"},
            ready=ReadySpec(http="GET /health", within=20.0),
        ),
        request=RequestSpec.model_validate(
            {
                "method": "POST",
                "url": "http://127.0.0.1:{port}" + INTERFACE_PATHS[interface],
                "json": body,
                "opt_out": OPT_OUT,
            }
        ),
        response=_response(interface),
        non_ai_endpoints=NON_AI_ENDPOINTS,
        budget=BudgetSpec(per_user_tokens_per_minute=numbers.quota_tokens),
        limits=LimitsSpec(input_tokens=numbers.input_tokens, output_tokens=numbers.output_tokens),
        health=HEALTH,
        write=WRITE,
        enrichment=ENRICHMENT,
        metrics=METRICS if name == "hardened" else None,
        kill_switch=KILL_SWITCH if name == "hardened" else None,
    )


def _response(interface: str) -> ResponseSpec:
    if interface == "stream":
        return DEMO_RESPONSE.model_copy(update={"stream": StreamSpec()})
    if interface == "json":
        contract = ContractSpec(required=("category", "urgency", "summary"))
        return DEMO_RESPONSE.model_copy(update={"contract": contract})
    return DEMO_RESPONSE
