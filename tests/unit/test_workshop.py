"""Workshop lessons as data: every bundled lesson validates, names scenarios, defences and
checks that exist; a broken lesson file is a file:line error (exit 2); `lab workshop
--list` prints them in order. No Textual here (gaplab.workshop is core)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from gaplab.cli import main
from gaplab.demo.options import DEFENCES
from gaplab.errors import InputError
from gaplab.scenario.library import bundled_scenarios, load_scenario
from gaplab.workshop.library import lessons_dir, load_lesson, load_lessons, missing_scenario
from gaplab.workshop.models import Lesson
from gaplab.workshop.runner import lesson_runs

STORIES = {  # the series' failure stories, one lesson each
    "outage": "provider-outage",
    "hang": "slow-provider",
    "rate_limit": "retry-storm",
    "huge_input": "huge-input",
    "injection": "prompt-injection",
    "pii_input": "personal-data",
    "model_swap": "model-swap",
    "observability": "is-it-working",
}


def test_every_bundled_lesson_validates_and_can_run_here() -> None:
    lessons = load_lessons()
    assert [lesson.order for lesson in lessons] == list(range(1, 9))
    assert {lesson.scenario: lesson.name for lesson in lessons} == STORIES
    scenarios = bundled_scenarios()
    for lesson in lessons:
        assert missing_scenario(lesson) is None, lesson.name
        model, _ = load_scenario(str(scenarios[lesson.scenario]))
        declared = {check.id for check in model.checks}
        # A watched check the scenario does not run would show "-" on both scorecards.
        assert set(lesson.watch) <= declared, (lesson.name, set(lesson.watch) - declared)
        assert lesson.watch, f"{lesson.name} points at no check"
        assert set(lesson.defences) <= set(DEFENCES)
        assert [run.target for run in lesson_runs(lesson)] == ["demo:naive", "demo:hardened"]
        for text in (lesson.story, lesson.prediction, lesson.explain, lesson.defence):
            assert "\n" not in text.replace("\n\n", ""), "prose is reflowed"


def test_a_broken_lesson_names_its_file_line_and_field(tmp_path: Path) -> None:
    source = (lessons_dir() / "01-provider-outage.yaml").read_text()
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        source.replace("defences: [fallback, breaker, retry]", "defences: [fallback, magic]")
        + "colour: red\n"
    )
    with pytest.raises(InputError) as caught:
        load_lesson(broken)
    text = str(caught.value)
    assert f"{broken}:" in text and "colour" in text
    lines = source.splitlines()
    line = next(i for i, text in enumerate(lines, 1) if text.startswith("defences:"))
    with pytest.raises(InputError) as caught:
        broken.write_text(source.replace("[fallback, breaker, retry]", "[fallback, magic]"))
        load_lesson(broken)
    assert f"{broken}:{line}:" in str(caught.value) and "no defence 'magic'" in str(caught.value)

    result = CliRunner().invoke(main, ["workshop", "--list", "--lessons", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert f"{broken}:{line}:" in result.output
    assert "Traceback" not in result.output


def test_lab_workshop_list_prints_the_lessons_in_order() -> None:
    result = CliRunner().invoke(main, ["workshop", "--list"])
    assert result.exit_code == 0, result.output
    titles = [
        line for line in result.output.splitlines() if line[:2] in {f"{n}." for n in range(1, 10)}
    ]
    assert [t.split("  [")[1].rstrip("]") for t in titles] == list(STORIES.values())
    assert "not runnable here" not in result.output
    assert "scenario huge_input: demo:naive then demo:hardened" in result.output
    assert max(len(line) for line in result.output.splitlines()) <= 100


def test_a_presenters_own_lesson_with_a_local_scenario(tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text(
        "version: 1\nname: mine\ntitle: Mine\nstory: s\nprediction: p\nscenario: local.yaml\n"
        "explain: e\ndefence: d\n"
    )
    lesson = load_lessons(tmp_path)[0]
    assert missing_scenario(lesson, tmp_path) is not None  # local.yaml is not there yet
    (tmp_path / "local.yaml").write_text("x")
    assert missing_scenario(lesson, tmp_path) is None
    assert lesson_runs(lesson, tmp_path)[0].scenario == str(tmp_path / "local.yaml")


def test_lesson_prose_is_reflowed_into_paragraphs() -> None:
    lesson = Lesson.model_validate(
        {
            "name": "x",
            "title": "X",
            "story": "a line\n  wrapped\n\nc",
            "prediction": "p",
            "scenario": "outage",
            "explain": "e",
            "defence": "d",
        }
    )
    assert lesson.story == "a line wrapped\n\nc"
