"""Bundled demo targets: `demo:naive` (the afternoon demo) and `demo:hardened` (the same
service with a time budget, retries, a circuit breaker and a fallback, each switchable off).

`gaplab.demo.spec.demo_target("demo:hardened?without=breaker")` gives the `TargetFile` the
lab uses to start and drive one; `python -m gaplab.demo` serves one by hand.
"""
