"""The names both demo services and their target description agree on.

Kept free of FastAPI and the SDK, so building a `TargetFile` (`spec.py`) imports nothing
of the services themselves.
"""

from __future__ import annotations

SHOP_HOST = "northwind-bikes.example"  # the only host links in answers may point to
DISCLOSURE_HEADER = "X-AI-Generated"  # "true" on AI-generated answers, "false" on fixed ones
CONSENT_FIELD = "ai_consent"  # false in a chat request: the user opted out of AI processing
