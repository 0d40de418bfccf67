"""The nine resilience scenarios of the answer, retry, stream and model checks, short,
against real demo targets (subprocesses, real sockets, the real mock provider): the naive
demo fails each new check with evidence naming the requests, the calls the provider saw
for them, the gaps between retries and the models asked for and served; the hardened demo
passes; switching off one defence fails exactly the checks it owns.

The naive demo passes `resilience.retry_transient`: the official SDK's default retries (two,
with backoff) are exactly what the check asks for; `demo:hardened?without=retry` fails it.
`bad_outputs` is also played on the chat endpoint (without its invalid-JSON phase), where
the output check alone stands between a bad answer and the user: on the JSON endpoint the
contract catches what the output check misses.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from gaplab.checks.base import Verdict

from .short import explain, run_targets, short_copy, verdicts

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

F, P = Verdict.FAIL, Verdict.PASS
# scenario -> (naive's verdicts, the defences whose removal fails checks: which checks)
CASES: dict[str, tuple[dict[str, Verdict], dict[str, list[str]]]] = {
    "transient_blip": (
        {"resilience.retry_transient": P},
        {"retry": ["resilience.retry_transient"]},
    ),
    "permanent_errors": ({"resilience.no_retry_permanent": F}, {"retry": []}),
    "retry_after": ({"resilience.retry_after": F}, {"retry": []}),
    "bad_outputs": ({"resilience.bad_output": F}, {"contract": ["resilience.bad_output"]}),
    "bad_outputs_chat": (
        {"resilience.bad_output": F},
        {"output_check": ["resilience.bad_output"], "contract": []},
    ),
    "stream_faults": (
        {"resilience.stream_integrity": F},
        {"stream_guard": ["resilience.stream_integrity"]},
    ),
    "model_swap": (
        {"resilience.model_pinned": F},
        {"pin": ["resilience.model_pinned"], "contract": ["resilience.model_pinned"]},
    ),
    "latency_spike": (
        {"resilience.timeout": F, "resilience.contained": P},
        {"timeout": ["resilience.timeout"]},
    ),
    "latency_drift": (
        {"resilience.timeout": F, "resilience.contained": P},
        {"timeout": ["resilience.timeout"]},
    ),
    "token_window": ({"resilience.fallback": F, "resilience.retry_after": P}, {}),
}
SCALE = {"latency_drift": 0.8, "latency_spike": 0.8, "token_window": 0.8}
# Broken streams are failed calls to the hardened demo's breaker: it opens at the first
# phase and stays open 5 s, longer than a short phase. A 1 s break lets probes through in
# every phase, so each fault still meets calls (the margins test shortens it too).
HARDENED = {"stream_faults": "demo:hardened?break=1s"}


# What a naive failure must show besides its verdict: the requests (in the summary), and
# the calls the provider saw for them, the gaps between retries, the models.
EVIDENCE: dict[str, Callable[[dict[str, Any]], bool]] = {
    "resilience.no_retry_permanent": lambda n: (
        n["retried"] > 0
        and "429 at" in n["failures"][0]["trace"]
        and n["calls_per_request"]["429"] > 1
    ),
    "resilience.retry_after": lambda n: n["shortest_gap_s"] < n["asked_s"] == 2.0,
    "resilience.bad_output": lambda n: bool(n["failures"][0]["model_answer"]),
    "resilience.stream_integrity": lambda n: bool(n["failures"][0]["problem"]),
    "resilience.model_pinned": lambda n: (
        n["aliases_asked"] == ["gpt-4o-mini"]
        and n["swap_failures"][0]["served"] == "gpt-4.1-mini-2025-04-14"
    ),
}


def _scenario(name: str, tmp_path: Path) -> Path:
    if name != "bad_outputs_chat":
        return short_copy(name, tmp_path, SCALE.get(name, 0.6), minimum=3.0)
    path = short_copy("bad_outputs", tmp_path, 0.6, minimum=3.0)
    document: dict[str, Any] = yaml.safe_load(path.read_text())
    document["interface"] = "chat"
    document["phases"] = [p for p in document["phases"] if p["name"] != "invalid_json"]
    chat = tmp_path / "bad_outputs_chat.yaml"
    chat.write_text(yaml.safe_dump(document, sort_keys=False))
    return chat


@pytest.mark.parametrize("name", sorted(CASES))
async def test_naive_fails_hardened_passes_and_each_owner_flips_only_its_checks(
    name: str, tmp_path: Path
) -> None:
    expected, owners = CASES[name]
    base = HARDENED.get(name, "demo:hardened")
    joiner = "&" if "?" in base else "?"
    variants = {d: f"{base}{joiner}without={d}" for d in owners}
    targets = ["demo:naive", base, *variants.values()]
    results = await run_targets(_scenario(name, tmp_path), targets, tmp_path / "runs")
    naive, hardened = results["demo:naive"], results[base]
    assert verdicts(naive) == expected, explain(naive)
    for failed in (r for r in naive.scorecard.results if r.id in EVIDENCE and r.verdict is F):
        assert any(e in failed.summary for e in failed.evidence.examples), failed.summary
        assert EVIDENCE[failed.id](failed.evidence.numbers), failed.evidence.numbers
    assert set(verdicts(hardened).values()) == {P}, explain(hardened)
    checks = set(verdicts(hardened))
    for result in (naive, hardened):
        assert not any(r.borderline for r in result.scorecard.results), explain(result)
    for defence, owned in owners.items():
        without = results[variants[defence]]
        got = verdicts(without)
        assert {c for c, v in got.items() if v is F} == set(owned), (defence, explain(without))
        assert {c for c, v in got.items() if v is P} == checks - set(owned), explain(without)
