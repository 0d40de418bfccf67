"""The `lab` command's exit-code contract for bad input, in process (click's CliRunner):
2 for a bad file or argument, found before anything starts; 3 and a log for a bug in
gaplab; 130 for an interruption; never 1, which means "not ready"."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from gaplab import cli
from gaplab.exit_codes import ExitCode

SCENARIO = """\
version: 1
name: short
title: Short
load: {users: 1}
phases:
  - {name: a, for: 1s}
checks: [resilience.fallback]
"""

TARGET = """\
name: bot
start:
  command: "python3 -m http.server {port}"
request:
  url: "http://127.0.0.1:{port}/chat"
  json: {message: "{input}"}
"""


def lab(*args: str | Path) -> Result:
    return CliRunner().invoke(cli.main, [str(a) for a in args], catch_exceptions=False)


def _write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return path


def _alias_bomb() -> str:
    lines = ['x-a0: &a0 "lol"']
    for level in range(1, 10):
        lines.append(f"x-a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * 10) + "]")
    return SCENARIO + "\n".join(lines) + "\ndescription: *a9\n"


BAD_FILES = {
    "binary": (b"\xff\xfe\x00\x01binary", "1:1: not UTF-8 text (byte 0xff)"),
    "control": (SCENARIO.replace("Short", '"a\x07b"'), "3:10: character #x0007 is not allowed"),
    "int-tag": (SCENARIO + "seed: !!int banana\n", "8:7: seed: 'banana' is not a valid !!int"),
    "bool-tag": (SCENARIO + "seed: !!bool maybe\n", "8:7: seed: 'maybe' is not a valid !!bool"),
    "timestamp": (
        SCENARIO + "description: !!timestamp 2020-99-99\n",
        "8:14: description: '2020-99-99' is not a valid !!timestamp",
    ),
    "nesting": (
        SCENARIO + "description: " + "[" * 500 + "]" * 500 + "\n",
        "8:77: nested more than 64",
    ),
    "laughs": (_alias_bomb(), "1:1: more than 100000 values once aliases are expanded"),
    "inf": (SCENARIO.replace("for: 1s", "for: .inf"), "6:15: phases[0].for: a duration must be"),
    "forever": (SCENARIO.replace("for: 1s", "for: 99999999h"), "6:15: phases[0].for: a duration"),
    "profile": (SCENARIO + "provider: nope\n", "8:1: provider: provider profile 'nope'"),
    "target": (SCENARIO + "target: nowhere.yaml\n", "8:1: target: target 'nowhere.yaml': no such"),
    "check": (SCENARIO.replace("fallback", "falback"), "7:10: checks[0]: unknown check"),
    "shlex": (
        TARGET.replace("python3 -m http.server {port}", "python3 -c 'unterminated"),
        "3:3: start.command: cannot split into arguments (no closing quotation)",
    ),
    "placeholder": (TARGET.replace("{input}", "{inputt}"), "6:10: request.json.message: unknown"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_validate_refuses_bad_files_with_exit_2_and_a_location(tmp_path: Path, case: str) -> None:
    content, expected = BAD_FILES[case]
    path = _write(tmp_path, f"{case}.yaml", content)
    started = time.perf_counter()
    result = lab("validate", path)
    elapsed = time.perf_counter() - started
    assert result.exit_code == ExitCode.INVALID_INPUT, result.output
    assert f"error: {path}:{expected}" in result.stderr
    assert "Traceback" not in result.output
    assert elapsed < 1.0, elapsed  # the alias bomb too: refused, not expanded


def test_validate_refuses_a_directory(tmp_path: Path) -> None:
    result = lab("validate", tmp_path)
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert result.stderr == f"error: {tmp_path}: is a directory, not a file\n"


def test_validate_reports_every_file_and_accepts_merge_keys(tmp_path: Path) -> None:
    merged = SCENARIO.replace(
        "phases:\n  - {name: a, for: 1s}",
        "x-phase: &phase {for: 1s}\nphases:\n  - {<<: *phase, name: a}\n  - {<<: *phase, name: b}",
    )
    good = _write(tmp_path, "merged.yaml", merged)
    bad = _write(tmp_path, "bad.yaml", SCENARIO.replace("for: 1s", "for: soon"))
    target = _write(tmp_path, "bot.yaml", TARGET)
    result = lab("validate", good, bad, target)
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert f"ok: {good} (scenario)" in result.stdout
    assert f"ok: {target} (target)" in result.stdout
    assert f"error: {bad}:6:15: phases[0].for: 'soon' is not a duration" in result.stderr


@pytest.mark.parametrize("case", ["profile", "shlex", "check", "inf"])
def test_run_refuses_bad_input_before_creating_a_run_folder(tmp_path: Path, case: str) -> None:
    content, expected = BAD_FILES[case]
    if case == "shlex":
        target = _write(tmp_path, "bot.yaml", content)
        args: list[str | Path] = [_write(tmp_path, "s.yaml", SCENARIO), "--target", target]
        path = target
    else:
        path = _write(tmp_path, "s.yaml", content)
        args = [path]
    runs = tmp_path / "runs"
    result = lab("run", *args, "--runs-dir", runs)
    assert result.exit_code == ExitCode.INVALID_INPUT, result.output
    assert f"error: {path}:{expected}" in result.stderr
    assert not runs.exists()


@pytest.mark.parametrize(
    ("runs_dir", "message"),
    [
        ("/proc/gaplab-x", "--runs-dir /proc/gaplab-x: cannot create a file in /proc"),
        ("{file}", "--runs-dir {file}: {file} is a file, not a folder"),
        ("{file}/runs", "--runs-dir {file}/runs: {file} is a file, not a folder"),
    ],
)
def test_an_unusable_runs_dir_is_exit_2(tmp_path: Path, runs_dir: str, message: str) -> None:
    scenario = _write(tmp_path, "s.yaml", SCENARIO)
    file = _write(tmp_path, "a-file", "")
    result = lab("run", scenario, "--runs-dir", runs_dir.format(file=file))
    assert result.exit_code == ExitCode.INVALID_INPUT, result.output
    assert result.stderr.startswith("error: " + message.format(file=file))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "s.yaml"]


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--junit", "/proc/j.xml", "--junit /proc/j.xml: cannot create a file in /proc"),
        ("--json", "/proc/r.json", "--json /proc/r.json: cannot create a file in /proc"),
        ("--json", "{file}/r.json", "--json {file}/r.json: {file} is a file, not a folder"),
        ("--junit", "{file}/a/b.xml", "--junit {file}/a/b.xml: {file} is a file, not a folder"),
        ("--toxiproxy", "http://127.0.0.1:70000", "--toxiproxy http://127.0.0.1:70000: the port"),
        ("--toxiproxy", "ftp://x", "--toxiproxy ftp://x: expected http://host:port"),
    ],
)
def test_output_paths_and_urls_are_checked_before_anything_starts(
    tmp_path: Path, option: str, value: str, message: str
) -> None:
    scenario = _write(tmp_path, "s.yaml", SCENARIO)
    file = _write(tmp_path, "a-file", "")
    runs = tmp_path / "runs"
    result = lab("run", scenario, option, value.format(file=file), "--runs-dir", runs)
    assert result.exit_code == ExitCode.INVALID_INPUT, result.output
    assert result.stderr.startswith("error: " + message.format(file=file))
    assert not runs.exists()  # nothing ran, nothing was created


@pytest.mark.parametrize("group", ["provider", "proxy"])
@pytest.mark.parametrize("port", ["70000", "-1", "65536"])
def test_ports_out_of_range_are_usage_errors(group: str, port: str) -> None:
    result = lab(group, "serve", "--port", port)
    assert result.exit_code == 2
    assert "is not in the range 0<=x<=65535" in result.stderr


def test_report_on_a_damaged_journal_warns_and_still_reports(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    scenario = {"version": 1, "name": "t", "title": "T", "phases": [{"name": "a", "for": 1.0}]}
    (run_dir / "scenario.json").write_text(json.dumps(scenario))
    started = {
        "kind": "run_started",
        "t": 0.0,
        "run_id": "r1",
        "scenario": "t",
        "title": "T",
        "target": "demo:naive",
        "seed": 1,
        "sla": 10.0,
        "phases": [["a", 1.0]],
        "provider_base_url": "http://x",
        "target_base_url": "http://y",
    }
    lines = [json.dumps(started).encode(), b"{not json", b"null", b'{"kind": "mystery"}']
    lines += [b"\xff\xfe", json.dumps({"kind": "run_finished", "t": 1.0, "status": "completed"})]
    (run_dir / "events.jsonl").write_bytes(
        b"\n".join(line if isinstance(line, bytes) else line.encode() for line in lines) + b"\n"
    )
    result = lab("report", run_dir, "--json", tmp_path / "report.json")
    assert result.exit_code in (ExitCode.READY, ExitCode.NOT_READY), result.output
    assert result.stderr == (
        f"warning: {run_dir}/events.jsonl: skipped 4 lines that are not events: line 2 (not "
        "JSON), line 3 (JSON null, not an event object), line 4 (unknown event kind "
        "'mystery'), line 5 (not UTF-8); the report is built from the rest\n"
    )
    assert json.loads((tmp_path / "report.json").read_text())["run_id"] == "r1"


def test_a_bug_in_gaplab_is_exit_3_with_the_traceback_in_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(spec: str) -> None:
        raise RuntimeError("a planted bug")

    monkeypatch.setattr("gaplab.scenario.library.load_scenario_document", broken)
    result = lab("run", "outage", "--runs-dir", tmp_path / "runs")
    assert result.exit_code == ExitCode.LAB_ERROR
    first, second = result.stderr.splitlines()
    assert first == "internal error: RuntimeError: a planted bug"
    match = re.fullmatch(r"the traceback is in (\S+); please report it with that file", second)
    assert match is not None, second
    log = Path(match.group(1))
    try:
        text = log.read_text()
        assert "Traceback" in text and "in broken" in text and "a planted bug" in text
    finally:
        log.unlink()


def test_an_interruption_outside_a_run_is_130_not_1(monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(spec: str) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("gaplab.scenario.library.load_scenario_document", interrupted)
    result = lab("run", "outage")
    assert result.exit_code == ExitCode.INTERRUPTED


def test_usage_errors_stay_exit_2() -> None:
    result = lab("run")
    assert result.exit_code == 2 and "Missing argument 'SCENARIO'" in result.stderr


def test_writable_output_locations_pass_and_nothing_is_left_behind(tmp_path: Path) -> None:
    from gaplab.output_paths import check_output_file, check_runs_dir

    check_runs_dir(tmp_path / "new" / "runs")
    check_output_file(tmp_path / "reports" / "junit.xml", "--junit")
    existing = _write(tmp_path, "report.json", "{}")
    check_output_file(existing, "--json")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]
    assert existing.read_text() == "{}"  # checked, not truncated
