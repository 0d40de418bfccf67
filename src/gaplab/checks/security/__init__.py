"""Security checks (ours; CHECKLIST.md, "Security"), one module each: injected orders,
system prompt leaks, hidden instructions, raw provider errors, unsafe output."""

from gaplab.checks.base import Check
from gaplab.checks.security.indirect_injection import IndirectInjectionCheck
from gaplab.checks.security.injection import InjectionCheck
from gaplab.checks.security.output_sanitised import OutputSanitisedCheck
from gaplab.checks.security.provider_error_leak import ProviderErrorLeakCheck
from gaplab.checks.security.system_prompt_leak import SystemPromptLeakCheck

SECURITY_CHECKS: tuple[Check, ...] = (
    InjectionCheck(),
    SystemPromptLeakCheck(),
    IndirectInjectionCheck(),
    ProviderErrorLeakCheck(),
    OutputSanitisedCheck(),
)

__all__ = ["SECURITY_CHECKS"]
