"""Bundled demo targets: `demo:naive` (the afternoon demo) and `demo:hardened` (the same
service with resilience, cost, security and governance defences, each switchable off: see
`options.DEFENCES` and the pipelines in `hardened.py`, `hardened_stream.py` and
`hardened_triage.py`). Both serve `/chat`, `/chat/stream` and `/triage`.

`gaplab.demo.spec.demo_target("demo:hardened?without=breaker")` gives the `TargetFile` the
lab uses to start and drive one; `python -m gaplab.demo` serves one by hand.
"""
