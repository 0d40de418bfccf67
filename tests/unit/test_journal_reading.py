"""Reading a damaged journal: every line that is not an event is skipped and named (line
number and why), and the report is still built from the rest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gaplab.engine.events import RunFinished, RunStarted, UserRequestFinished
from gaplab.engine.journal import JournalWriter, SkippedLine, read_journal
from gaplab.errors import InputError
from gaplab.report.rebuild import rebuild_report

STARTED = RunStarted(
    t=0.0,
    run_id="r1",
    scenario="t",
    title="T",
    target="demo:naive",
    seed=1,
    sla=10.0,
    phases=(("a", 2.0),),
    provider_base_url="http://127.0.0.1:1/v1",
    target_base_url="http://127.0.0.1:2",
)
REQUEST = UserRequestFinished(
    t=1.0,
    request_id="user-0001-000001",
    user="user-0001",
    phase="a",
    started=0.5,
    latency=0.5,
    outcome="ok",
    status=200,
)
FINISHED = RunFinished(t=2.0, status="completed")
SCENARIO = {"version": 1, "name": "t", "title": "T", "phases": [{"name": "a", "for": 2.0}]}


def _run_dir(tmp_path: Path, damage: list[bytes]) -> Path:
    """A run folder whose journal has the events above with `damage` between them."""
    run_dir = tmp_path / "run"
    writer = JournalWriter(run_dir / "events.jsonl")
    writer(STARTED)
    writer(REQUEST)
    writer.close()
    with (run_dir / "events.jsonl").open("ab") as file:
        for line in damage:
            file.write(line + b"\n")
    writer = JournalWriter(run_dir / "events.jsonl")
    writer(FINISHED)
    writer.close()
    (run_dir / "scenario.json").write_text(json.dumps(SCENARIO))
    return run_dir


DAMAGE = [
    b"{not json",
    b"null",
    b"[1, 2]",
    json.dumps({"kind": "mystery", "t": 1}).encode(),
    json.dumps({"t": 1}).encode(),
    b"\xff\xfe not text",
    json.dumps({"kind": "user_request", "t": "soon"}).encode(),
    json.dumps({**REQUEST.to_dict(), "latency": [1]}).encode(),
    b"",  # blank lines are not damage
]


def test_damaged_lines_are_skipped_and_named(tmp_path: Path) -> None:
    skipped: list[SkippedLine] = []
    events = list(read_journal(_run_dir(tmp_path, DAMAGE) / "events.jsonl", skipped))
    assert events == [STARTED, REQUEST, FINISHED]
    assert [str(line) for line in skipped] == [
        "line 3 (not JSON)",
        "line 4 (JSON null, not an event object)",
        "line 5 (JSON list, not an event object)",
        "line 6 (unknown event kind 'mystery')",
        "line 7 (unknown event kind None)",
        "line 8 (not UTF-8)",
        "line 9 (user_request event: t: Input should be a valid number, unable to parse "
        "string as a number)",
        "line 10 (user_request event: latency: Input should be a valid number)",
    ]


def test_the_report_is_built_from_the_rest(tmp_path: Path) -> None:
    skipped: list[SkippedLine] = []
    report = rebuild_report(_run_dir(tmp_path, DAMAGE), fail_under=80, skipped=skipped)
    assert len(skipped) == 8
    assert report["run_id"] == "r1" and report["status"] == "completed"
    assert report["totals"]["outcomes"]["ok"] == 1 and report["totals"]["duration_s"] == 2.0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xff", "cannot read the run's scenario"),
        (b"{not json", "cannot read the run's scenario"),
        (b'{"name": "t"}', "title: required field is missing"),
    ],
)
def test_a_bad_scenario_json_is_an_input_error(
    tmp_path: Path, content: bytes, message: str
) -> None:
    run_dir = _run_dir(tmp_path, [])
    (run_dir / "scenario.json").write_bytes(content)
    with pytest.raises(InputError, match=message):
        rebuild_report(run_dir, fail_under=80)
