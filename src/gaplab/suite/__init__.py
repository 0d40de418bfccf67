"""The readiness suite: several scenarios run as one, merged into one scorecard
(gaplab.suite.runner), with the attested items decided from the attestation file."""
