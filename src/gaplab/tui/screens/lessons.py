"""Workshop mode (`lab workshop`): the lesson list, and one lesson told step by step.

A lesson's steps: the story, the prediction to make, the run on the naive target, what its
scorecard shows, the defence to switch on, the run on the hardened target, and the two
runs side by side. `right`/`space` goes on, `left` back; on a run step `enter` runs it
(shown live, as any run), then the lesson comes back with its result. The lessons and
their runs come from gaplab.workshop (no Textual there).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, OptionList, Static
from textual.widgets.option_list import Option

from gaplab.headless import Finished
from gaplab.tui.queue import QueuedRun, RunQueue
from gaplab.tui.screens.compare import comparison_renderable
from gaplab.workshop.models import Lesson
from gaplab.workshop.runner import LessonRun, build_run, lesson_outcome, lesson_runs

if TYPE_CHECKING:
    from gaplab.tui.app import GaplabApp

STEPS = ("story", "predict", "naive run", "what it shows", "defence", "hardened run", "compare")


def lesson_preview(lesson: Lesson) -> RenderableType:
    return Group(
        Text(lesson.title, style="bold"),
        Text(f"scenario {lesson.scenario} · {lesson.naive} then {lesson.hardened}", style="dim"),
        Text(""),
        Text(lesson.story),
        Text(""),
        Text("predict: " + lesson.prediction, style="italic"),
    )


class LessonListScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back", id="lessons.back", tooltip="Back"),
    ]

    def __init__(self, lessons: list[Lesson], *, folder: Path | None = None) -> None:
        super().__init__()
        self.lessons = lessons
        self.folder = folder  # where the lesson files are (their local scenarios too)

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="◆")
        with Horizontal(id="lessons-main"):
            options = OptionList(
                *(
                    Option(f"{n}. {lesson.title}", id=lesson.name)
                    for n, lesson in enumerate(self.lessons, 1)
                ),
                id="lesson-list",
            )
            options.border_title = "lessons (enter: start)"
            yield options
            with VerticalScroll(id="lesson-preview"):
                yield Static("", id="lesson-preview-body")
        yield Footer()

    def on_mount(self) -> None:
        self.title = "gaplab · workshop"
        self.sub_title = f"{len(self.lessons)} lessons"
        options = self.query_one("#lesson-list", OptionList)
        if self.lessons:
            options.highlighted = 0
            self._preview(0)
        options.focus()

    def _preview(self, index: int) -> None:
        self.query_one("#lesson-preview-body", Static).update(lesson_preview(self.lessons[index]))

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self._preview(event.option_index)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.app.push_screen(LessonScreen(self.lessons[event.option_index], folder=self.folder))


class LessonScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape", "app.pop_screen", "Lessons", id="lesson.back", tooltip="Back to the lessons"
        ),
        Binding("right,space", "step(1)", "Next", id="lesson.next", tooltip="The next step"),
        Binding("left", "step(-1)", "Previous", id="lesson.previous", tooltip="The previous step"),
        Binding(
            "enter",
            "do_step",
            "Run",
            id="lesson.run",
            tooltip="On a run step: run the scenario on that target, shown live",
        ),
        Binding(
            "v",
            "view_scorecard",
            "Scorecard",
            id="lesson.scorecard",
            tooltip="Open the scorecard of this step's run",
        ),
    ]

    def __init__(self, lesson: Lesson, *, folder: Path | None = None, step: int = 0) -> None:
        super().__init__()
        self.lesson = lesson
        self.runs = lesson_runs(lesson, folder)
        self.step = step
        self.reports: dict[str, Finished] = {}

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="◆")
        yield Static("", id="lesson-steps")
        with VerticalScroll(id="lesson-body", can_focus=True):
            yield Static("", id="lesson-view")
        yield Footer()

    def on_mount(self) -> None:
        self.title = "gaplab · workshop"
        self.sub_title = self.lesson.title
        self.show()
        self.query_one("#lesson-body").focus()

    def show(self) -> None:
        marks = []
        for index, name in enumerate(STEPS):
            done = name.endswith("run") and name.split()[0] in self.reports
            label = f"{index + 1} {name}" + (" ✓" if done else "")
            marks.append(f"[reverse] {label} [/reverse]" if index == self.step else f" {label} ")
        self.query_one("#lesson-steps", Static).update("".join(marks))
        self.query_one("#lesson-view", Static).update(self.view())
        self.query_one("#lesson-body", VerticalScroll).scroll_home(animate=False)

    def view(self) -> RenderableType:
        lesson, step = self.lesson, STEPS[self.step]
        if step == "story":
            return Group(Text(lesson.title, style="bold"), Text(""), Text(lesson.story))
        if step == "predict":
            return Group(Text("Before we run it", style="bold"), Text(""), Text(lesson.prediction))
        if step in ("naive run", "hardened run"):
            return self._run_view(step.split()[0])
        if step == "what it shows":
            return Group(
                Text("What the naive scorecard shows", style="bold"),
                Text(""),
                Text(lesson.explain),
                Text(""),
                self._watched("naive"),
            )
        if step == "defence":
            defences = ", ".join(lesson.defences) or "-"
            return Group(
                Text(f"The defence: {defences}", style="bold"), Text(""), Text(lesson.defence)
            )
        return self._compare_view()

    def _run(self, label: str) -> LessonRun:
        return next(run for run in self.runs if run.label == label)

    def _run_view(self, label: str) -> RenderableType:
        run = self._run(label)
        finished = self.reports.get(label)
        head = Text(f"{self.lesson.scenario} against {run.target}", style="bold")
        if finished is None:
            return Group(
                head,
                Text(""),
                Text(f"enter: run it now (about {self._seconds(run):g} s), shown live"),
            )
        return Group(
            head,
            Text(""),
            Text(finished.report["verdict"]["headline"]),
            Text(f"report: {finished.report_path}", style="dim"),
            Text(""),
            self._watched(label),
            Text(""),
            Text("v: its scorecard · enter: run again", style="dim"),
        )

    def _seconds(self, run: LessonRun) -> float:
        from gaplab.workshop.runner import planned_seconds

        try:
            return planned_seconds(run)
        except Exception:  # shown as unknown; running it reports the problem
            return 0.0

    def _watched(self, label: str) -> RenderableType:
        finished = self.reports.get(label)
        if finished is None:
            return Text(f"run the {label} step first", style="dim")
        by_id = {c["id"]: c for c in finished.report["checks"]}
        table = Table(box=None, expand=True, padding=(0, 1), header_style="bold")
        table.add_column("check", no_wrap=True)
        table.add_column("verdict", no_wrap=True)
        table.add_column("summary", overflow="fold", ratio=1)
        for check_id in self.lesson.watch or tuple(by_id):
            check = by_id.get(check_id)
            table.add_row(
                check_id,
                check["verdict"].upper() if check else "-",
                check["summary"] if check else "not in this run",
            )
        return table

    def _compare_view(self) -> RenderableType:
        naive, hardened = self.reports.get("naive"), self.reports.get("hardened")
        if naive is None or hardened is None:
            return Text("run both steps first (naive, then hardened)", style="dim")
        outcome = lesson_outcome(self.lesson, naive.report, hardened.report)
        table = Table(box=None, expand=True, padding=(0, 1), header_style="bold")
        for name in ("check", "naive", "hardened"):
            table.add_column(name, no_wrap=True)
        table.add_column("hardened says", overflow="fold", ratio=1)
        for row in outcome.watched:
            table.add_row(row.id, row.naive, row.hardened, row.hardened_summary)
        return Group(
            Text("Side by side", style="bold"),
            table,
            Text(""),
            comparison_renderable(outcome.comparison, "naive", "hardened"),
        )

    def action_step(self, delta: int) -> None:
        self.step = max(0, min(len(STEPS) - 1, self.step + delta))
        self.show()

    def action_do_step(self) -> None:
        step = STEPS[self.step]
        if not step.endswith("run"):
            self.action_step(1)
            return
        label = step.split()[0]
        app: GaplabApp = self.app  # type: ignore[assignment]
        if app.run_active:
            return
        run = self._run(label)
        runs_dir = app.catalog.runs_dir if app.catalog is not None else Path("runs")
        queue = RunQueue(
            [
                QueuedRun(
                    label, lambda: build_run(run, runs_dir, network_proxy=True), self._seconds(run)
                )
            ],
            done=self._done,
            title=self.lesson.title,
        )
        app.start_queue(queue)

    def _done(self, app: Any, results: list[tuple[QueuedRun, Finished]]) -> None:
        for item, finished in results:
            self.reports[item.label] = finished
        while app.screen is not self and len(app.screen_stack) > 1:
            app.pop_screen()
        self.step = min(len(STEPS) - 1, self.step + 1)
        self.show()

    def action_view_scorecard(self) -> None:
        from gaplab.tui.screens.scorecard import ScorecardScreen, ScoredRun

        step = STEPS[self.step]
        label = step.split()[0] if step.endswith("run") else "naive"
        finished = self.reports.get(label)
        if finished is None:
            self.notify(f"the {label} run has not run yet", severity="warning")
            return
        run_dir = finished.report_path.parent
        self.app.push_screen(
            ScorecardScreen(ScoredRun(finished.report, finished.report_path, run_dir))
        )
