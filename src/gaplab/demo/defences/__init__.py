"""The hardened demo's security and privacy defences, each a plain function of text.

`guard` (input screening, on `normalise` and `injection_patterns`), `output_filter`,
`sanitise`, and `redact` (on `personal_data` and `names_addresses`). None of them knows the
lab: they look for what attacks and personal data look like, never for a tester's marker.
"""
