"""Faults applied by hand during a run ("chaos by hand"): the presets a front end offers,
and how each is journaled so a run with manual faults can be read back.

A preset is one scenario-file fault (`provider:` or `network:`) or a switch of the input
mix (`inputs: injection`), applied on top of the phase's own faults until it is cleared
(or for `lasts` seconds). `LabRun.apply_manual` / `clear_manual` apply them; the journal
gets a `ManualFault` event (with the fault as a scenario file writes it, `spec`) and a
`FaultChanged(source="manual")`; verdicts are decided from the journal, so `lab report`
rebuilds the same verdicts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gaplab.netfault.spec import NetworkFault
from gaplab.provider.faults import ProviderFault

INJECTION_BURST_SECONDS = 10.0


@dataclass(frozen=True)
class ManualPreset:
    name: str
    title: str  # what a person calls it: "provider 503"
    provider: ProviderFault | None = None
    network: NetworkFault | None = None
    inputs: str | None = None  # an input kind every new request draws from
    lasts: float | None = None  # cleared by itself after this many seconds

    @property
    def source(self) -> str:
        if self.provider is not None:
            return "provider"
        return "network" if self.network is not None else "inputs"

    def describe(self) -> str:
        if self.provider is not None:
            return self.provider.describe()
        if self.network is not None:
            return self.network.describe()
        lasting = f" for {self.lasts:g} s" if self.lasts else ""
        return f"inputs: every request is {self.inputs}{lasting}"

    def spec(self) -> dict[str, Any]:
        """The fault as a scenario file writes it (what `ManualFault.spec` journals)."""
        if self.provider is not None:
            return {"provider": self.provider.model_dump(mode="json", exclude_defaults=True)}
        if self.network is not None:
            return {"network": self.network.model_dump(mode="json", exclude_defaults=True)}
        return {"inputs": self.inputs, "lasts": self.lasts}


PRESETS: dict[str, ManualPreset] = {
    preset.name: preset
    for preset in (
        ManualPreset("provider_503", "provider 503", provider=ProviderFault(error=503)),
        ManualPreset("hang", "provider hang", provider=ProviderFault(hang=True)),
        ManualPreset("latency", "provider +3 s latency", provider=ProviderFault(latency=3.0)),
        ManualPreset(
            "rate_limit",
            "429 with retry-after 2 s",
            provider=ProviderFault(error=429, retry_after=2.0),
        ),
        ManualPreset(
            "injection_burst",
            f"injection burst ({INJECTION_BURST_SECONDS:g} s)",
            inputs="injection",
            lasts=INJECTION_BURST_SECONDS,
        ),
        ManualPreset(
            "model_swap",
            "model swap to gpt-4.1-mini",
            provider=ProviderFault(model_swap="gpt-4.1-mini"),
        ),
        ManualPreset("network_cut", "network cut", network=NetworkFault(down=True)),
    )
}


def preset_from_spec(name: str, title: str, spec: dict[str, Any]) -> ManualPreset:
    """The preset a journaled `ManualFault.spec` describes (to apply it again by hand)."""
    if "provider" in spec:
        return ManualPreset(name, title, provider=ProviderFault.model_validate(spec["provider"]))
    if "network" in spec:
        return ManualPreset(name, title, network=NetworkFault.model_validate(spec["network"]))
    return ManualPreset(name, title, inputs=str(spec["inputs"]), lasts=spec.get("lasts"))
