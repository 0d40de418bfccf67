"""What do the lab's inputs cost the load generator, and the mock what reading them costs?

For each input kind it prints the microseconds to make one input (median of --repeat runs
of --count inputs drawn through the real mix, one user stream per run), the extra cost
over `questions`, and the share of one core that extra would take at --rate inputs per
second (issue 11's budget: under 20 % of a core beyond questions). It also prints the
tokens of the default 50-page document as the mock provider counts them, the mock's
`count_tokens` on it, and `find_injection` (what behaviour `obey_injection` reads per
call) on a benign and on a poisoned 50-page document.

    python bench/inputs.py [--count 2000] [--repeat 5] [--rate 400]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from gaplab.load.inputs import InputMix
from gaplab.provider.injection import find_injection
from gaplab.provider.tokens import count_tokens
from gaplab.scenario.load_models import LoadSpec

KINDS: dict[str, object] = {
    "questions": "questions",
    "repeated": "repeated",
    "injection": "injection",
    "extraction": "extraction",
    "pii": "pii",
    "documents (50 pages)": {"documents": {}},
    "documents (50 pages, hidden)": {"documents": {"hidden": "injection"}},
}


def _mix(inputs: object, seed: int = 1) -> InputMix:
    return InputMix(LoadSpec.model_validate({"inputs": inputs}).inputs, seed)


def _per_input_us(inputs: object, count: int, repeat: int) -> float:
    mix = _mix(inputs)  # built once per run, as the load generator does
    runs = []
    for run in range(repeat):
        stream = mix.stream(run)
        start = time.perf_counter()
        for _ in range(count):
            stream.next()
        runs.append((time.perf_counter() - start) / count * 1e6)
    return statistics.median(runs)


def _best_ms(action: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1e3)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000, help="inputs per run")
    parser.add_argument("--repeat", type=int, default=5, help="runs per kind (median)")
    parser.add_argument("--rate", type=float, default=400.0, help="inputs/s for the core share")
    args = parser.parse_args()

    start = time.perf_counter()
    _mix({"documents": {"hidden": "injection"}, "pii": 1, "injection": 1})
    print(f"setup (library, corpus, Faker locales): {(time.perf_counter() - start) * 1e3:.0f} ms")

    base = _per_input_us("questions", args.count, args.repeat)
    print(
        f"{'kind':30} {'us/input':>9} {'extra us':>9} {'core at ' + str(int(args.rate)) + '/s':>14}"
    )
    for name, inputs in KINDS.items():
        count = args.count if "documents" not in name else max(200, args.count // 4)
        micros = _per_input_us(inputs, count, args.repeat)
        extra = max(0.0, micros - base)
        print(f"{name:30} {micros:9.1f} {extra:9.1f} {extra * args.rate / 1e4:13.2f}%")

    benign = _mix({"documents": {}}).stream(0).next().text
    poisoned = _mix({"documents": {"hidden": "injection"}}).stream(0).next().text
    document = benign.split("\n\n", 1)[1]
    print(f"50-page document: {count_tokens(document)} tokens, {len(document)} characters")
    for label, action in (
        ("mock count_tokens on it", lambda: count_tokens(benign)),
        ("find_injection, benign 50 pages", lambda: find_injection(benign)),
        ("find_injection, poisoned 50 pages", lambda: find_injection(poisoned)),
    ):
        print(f"{label + ':':36} {_best_ms(action, 20):.2f} ms")


if __name__ == "__main__":
    main()
