"""The Textual app: `run_app()` is the picker (bare `lab`), `run_app(run=...)` is
`lab run --tui`, `run_app(suite=...)` is `lab run SUITE --tui` (gaplab.tui.suite_driver),
`run_app(past=...)` is `lab report RUN --tui`, `run_app(workshop=...)` is `lab workshop`.
Returns the same exit codes as headless (`gaplab.exit_codes`).

The engine runs as an async worker (group "run", exclusive) on the app's event loop;
screens pull its snapshot on a tick. Runs can be queued (a workshop lesson's naive then
hardened run, a suite's scenarios): each is shown live, then the next starts. Quitting
mid-run cancels the worker, waits for the engine's partial result and teardown, writes
the report, then exits with 130. The theme and the picker's last choice persist
(gaplab.tui.state).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.theme import Theme
from textual.worker import Worker, WorkerState

from gaplab.engine.manual import PRESETS
from gaplab.engine.run import LabRun, RunResult
from gaplab.errors import InputError, LabError, write_internal_error_log
from gaplab.exit_codes import ExitCode
from gaplab.headless import Finished, finish_run
from gaplab.suite.runner import SuiteRun
from gaplab.tui.catalog import SUITE_PREFIX, Catalog, default_catalog
from gaplab.tui.commands import lab_commands
from gaplab.tui.queue import QueuedRun, RunQueue
from gaplab.tui.screens.home import HomeScreen
from gaplab.tui.screens.live import LiveRunScreen
from gaplab.tui.screens.scorecard import ScorecardScreen, ScoredRun
from gaplab.tui.screens.suite_scorecard import scorecard_screen
from gaplab.tui.state import TuiState
from gaplab.tui.suite_driver import SuiteDriver

FINAL_PAUSE = 4.0  # seconds the final verdicts stay on the live screen before the scorecard


class GaplabApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "gaplab"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "q",
            "quit",
            "Quit",
            id="app.quit",
            tooltip="Quit; a run in progress is stopped first and its partial report written",
        ),
        Binding(
            "question_mark,f1",
            "help",
            "Keys",
            id="app.help",
            tooltip="Show every key of this screen",
        ),
        Binding(
            "ctrl+s",
            "screenshot",
            "Screenshot",
            id="app.screenshot",
            tooltip="Save an SVG screenshot into the run's folder (or the runs folder)",
        ),
        Binding(
            "n",
            "new_run",
            "New run",
            show=False,
            id="app.new_run",
            tooltip="Back to the picker (once no run is going)",
        ),
    ]

    def __init__(
        self,
        *,
        run: LabRun | None = None,
        catalog: Catalog | None = None,
        json_path: Path | None = None,
        junit_path: Path | None = None,
        past: ScoredRun | None = None,
        state_dir: Path | None = None,
        workshop: object | None = None,
        workshop_folder: Path | None = None,
        markdown_path: Path | None = None,
        html_path: Path | None = None,
        suite: SuiteRun | None = None,
    ) -> None:
        super().__init__()
        self.initial_run = run
        self.initial_suite = suite
        self.suite: SuiteDriver | None = None  # the suite shown, once one started
        self.catalog = catalog
        self.json_path = json_path
        self.junit_path = junit_path
        self.past = past
        self.workshop_lessons = workshop
        self.workshop_folder = workshop_folder  # `lab workshop --lessons DIR`
        self.state_dir = state_dir
        self.state = TuiState.load(state_dir)
        self.markdown_path = markdown_path
        self.html_path = html_path
        self.exit_code = ExitCode.READY
        self.current_run: LabRun | None = None
        self.live_screen: LiveRunScreen | None = None
        self.finished: Finished | None = None
        self.scored: ScoredRun | None = None
        self.run_error: BaseException | None = None
        self.stopping = False
        self.quitting = False
        self.final_pause = FINAL_PAUSE
        self.queue: RunQueue | None = None
        self._pending_scorecard: Callable[[], None] | None = None
        self.freeze_gc = False  # run_app: freeze the start-up objects once the app is up

    # -- lifecycle -----------------------------------------------------------------------

    def on_mount(self) -> None:
        # SIGTERM (e.g. a CI timeout) gets the same orderly stop as pressing q.
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, self.request_quit)
        if self.state.theme and self.state.theme in self.available_themes:
            self.theme = self.state.theme
        self.theme_changed_signal.subscribe(self, self._remember_theme)
        if self.freeze_gc:
            from gaplab import runtime

            # As `lab run` does: the start-up objects (Textual's among them) leave the
            # collector's later scans, so a full collection does not stall the run's loop.
            self.call_after_refresh(runtime.freeze_startup_objects)
        if self.initial_run is not None:
            self.start_run(self.initial_run)
        elif self.initial_suite is not None:
            self.start_suite(self.initial_suite)
        elif self.past is not None:
            self.push_screen(scorecard_screen(self.past))
        elif self.workshop_lessons is not None:
            self.action_workshop()
        elif self.catalog is not None:
            self.push_screen(HomeScreen(self.catalog, self.state.last))

    def on_unmount(self) -> None:
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            asyncio.get_running_loop().remove_signal_handler(signal.SIGTERM)

    def _remember_theme(self, theme: Theme) -> None:
        self.state.theme = theme.name
        self._save_state()

    def _save_state(self) -> None:
        try:
            self.state.save(self.state_dir)
        except OSError as exc:
            self.notify(f"could not remember the choice: {exc}", severity="warning")

    @property
    def run_active(self) -> bool:
        return any(w.group == "run" and not w.is_finished for w in self.workers)

    def start_run(self, run: LabRun, *, progress: str = "") -> None:
        self.current_run, self.finished, self.run_error = run, None, None
        self.suite = None
        self.stopping = False
        self._pending_scorecard = None
        self.live_screen = LiveRunScreen(run, progress=progress)
        if isinstance(self.screen, LiveRunScreen):
            self.switch_screen(self.live_screen)
        else:
            self.push_screen(self.live_screen)
        self.run_worker(
            run.execute(),
            name=run.run_id,
            group="run",
            exclusive=True,
            exit_on_error=False,
            description=f"{run.scenario.name} against {run.options.target_label}",
        )

    def start_suite(self, run: SuiteRun) -> None:
        """Show and run a suite (gaplab.tui.suite_driver); its scenarios are processes."""
        self.current_run, self.finished, self.run_error = None, None, None
        self.stopping = False
        self._pending_scorecard = None
        self.suite = SuiteDriver(self, run)
        self.suite.start()

    def start_queue(self, queue: RunQueue) -> None:
        """Run `queue`'s runs one after another, each shown live; then its `done`."""
        self.queue = queue
        self._next_in_queue()

    def _next_in_queue(self) -> None:
        queue = self.queue
        if queue is None:
            return
        item = queue.next()
        if item is None:
            self.queue = None
            queue.finish(self)
            return
        try:
            run = item.build()
        except InputError as exc:
            self.queue = None
            self.notify(str(exc), title="cannot run", severity="error", timeout=10)
            return
        self.start_run(run, progress=queue.progress())

    def run_from_catalog(self, scenario: str, target: str, seed: int | None = None) -> None:
        """`scenario` is a scenario's name or `suite:NAME` (a suite: no seed of its own)."""
        if self.catalog is None or self.run_active:
            return
        try:
            if scenario.startswith(SUITE_PREFIX):
                self.start_suite(self.catalog.build_suite(scenario, target))
                return
            run = self.catalog.build_run(scenario, target, seed=seed)
        except InputError as exc:
            self.notify(str(exc), title="cannot run", severity="error", timeout=10)
            return
        self.start_run(run)

    def on_home_screen_run_requested(self, message: HomeScreen.RunRequested) -> None:
        self.state.last = message.choice
        self._save_state()
        self.run_from_catalog(message.scenario, message.target, message.seed)

    # -- actions ---------------------------------------------------------------------------

    def action_stop_run(self) -> None:
        if not self.run_active:
            return
        if self.stopping:
            self.notify("Still stopping: the lab's processes are being shut down")
            return
        self.stopping = True
        if self.queue is not None:
            self.queue.cancel()
        if self.live_screen is not None:
            self.live_screen.set_status("stopping: users, target, proxy and provider…")
        if self.suite is not None:
            self.suite.stopping()
        # The engine catches the cancellation, tears down, and returns a partial result.
        self.workers.cancel_group(self, "run")

    def request_quit(self) -> None:
        if self.run_active:
            self.quitting = True
            self.action_stop_run()
        else:
            self.exit(int(self.exit_code), return_code=int(self.exit_code))

    async def action_quit(self) -> None:
        self.request_quit()

    def action_help(self) -> None:
        from gaplab.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def screenshot_dir(self) -> Path:
        if self.suite is not None:
            return self.suite.screenshot_dir()
        if self.current_run is not None and self.current_run.run_dir.is_dir():
            return self.current_run.run_dir
        if self.scored is not None and self.scored.run_dir is not None:
            return self.scored.run_dir
        runs_dir = self.catalog.runs_dir if self.catalog is not None else Path("runs")
        return runs_dir / "screenshots"

    def action_screenshot(self, filename: str | None = None, path: str | None = None) -> None:
        folder = Path(path) if path else self.screenshot_dir()
        try:
            folder.mkdir(parents=True, exist_ok=True)
            written = self.save_screenshot(filename, str(folder))
        except OSError as exc:
            self.notify(f"could not save the screenshot: {exc}", severity="error")
            return
        self.notify(f"screenshot: {written}", title="saved", timeout=6)

    def action_new_run(self) -> None:
        if self.catalog is None or self.run_active:
            return
        self._pending_scorecard = None
        while len(self.screen_stack) > 1 and not isinstance(self.screen, HomeScreen):
            self.pop_screen()
        if not isinstance(self.screen, HomeScreen):
            self.push_screen(HomeScreen(self.catalog, self.state.last))

    def action_show_scorecard(self) -> None:
        pending, self._pending_scorecard = self._pending_scorecard, None
        if pending is not None:
            pending()

    def action_open_runs(self) -> None:
        from gaplab.tui.screens.runs import RunsScreen

        runs_dir = self.catalog.runs_dir if self.catalog is not None else Path("runs")
        self.push_screen(RunsScreen(runs_dir))

    def action_compare_runs(self) -> None:
        self.action_open_runs()

    def open_past_run(self, path: Path) -> None:
        from gaplab.tui.past import scored_from_folder

        try:
            scored = scored_from_folder(path)
        except InputError as exc:
            self.notify(str(exc), title="cannot open", severity="error", timeout=10)
            return
        self.push_screen(scorecard_screen(scored))

    def compare_paths(self, a: Path, b: Path) -> None:
        from gaplab.report.compare import compare, load_run
        from gaplab.suite.report import read_suite_report
        from gaplab.tui.screens.compare import CompareScreen

        suites = [p.name for p in (a, b) if read_suite_report(p) is not None]
        if suites:
            text = f"{', '.join(suites)}: a suite; compare its scenarios' run folders instead"
            self.notify(text, title="cannot compare", severity="warning", timeout=10)
            return
        try:
            comparison = compare(load_run(a), load_run(b))
        except InputError as exc:
            self.notify(str(exc), title="cannot compare", severity="error", timeout=10)
            return
        self.push_screen(CompareScreen(comparison, a.name, b.name))

    def action_workshop(self) -> None:
        from gaplab.tui.screens.lessons import LessonListScreen
        from gaplab.workshop.library import load_lessons

        try:
            lessons = self.workshop_lessons or load_lessons()
        except InputError as exc:
            self.notify(str(exc), title="cannot load the lessons", severity="error", timeout=10)
            return
        self.push_screen(LessonListScreen(lessons, folder=self.workshop_folder))  # type: ignore[arg-type]

    # -- chaos by hand --------------------------------------------------------------------

    def toggle_manual(self, name: str) -> None:
        run = self.current_run
        if run is None or not self.run_active:
            return
        preset = PRESETS[name]
        if name in run.manual_faults:
            self.run_worker(run.clear_manual(name), group="chaos", exit_on_error=False)
            return
        reason = run.manual_unavailable(preset)
        if reason is not None:
            self.notify(f"{preset.title}: {reason}", title="cannot apply", severity="warning")
            return
        self.run_worker(run.apply_manual(preset), group="chaos", exit_on_error=False)
        self.notify(f"{preset.title} on: press again to clear it", title="chaos by hand")

    def clear_manual(self) -> None:
        run = self.current_run
        if run is not None and self.run_active and run.manual_faults:
            self.run_worker(run.clear_manual(), group="chaos", exit_on_error=False)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "new_run":
            return self.catalog is not None and not self.run_active
        if action == "stop_run":
            return self.run_active
        if action == "show_scorecard":
            return self._pending_scorecard is not None
        return True

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield from lab_commands(self)

    # -- the run's end ---------------------------------------------------------------------

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.group == "chaos":
            if event.state is WorkerState.ERROR:
                error = worker.error
                text = (
                    str(error)
                    if isinstance(error, LabError)
                    else f"{type(error).__name__}: {error}"
                )
                self.notify(text, title="chaos by hand", severity="error", timeout=8)
            return
        if self.suite is not None and worker.name == self.suite.worker_name:
            self.suite.worker_changed(worker, event.state)
            return
        if worker.group != "run" or self.current_run is None:
            return
        if worker.name != self.current_run.run_id:
            return  # a run replaced by a newer one (exclusive group): nothing to show
        if event.state is WorkerState.SUCCESS:
            result = worker.result
            assert isinstance(result, RunResult)
            self._finish(self.current_run, result)
        elif event.state is WorkerState.ERROR:
            self._crashed(self.current_run, worker.error)
        elif event.state is WorkerState.CANCELLED:
            # Cancelled before the engine started: nothing ran, so there is no report.
            self.exit_code = ExitCode.INTERRUPTED
            self._stop_live("stopped before the run started · n: new run · q: quit")
        else:
            return
        if self.quitting and self.finished is None:
            self.exit(int(self.exit_code), return_code=int(self.exit_code))

    def _crashed(self, run: LabRun, error: BaseException | None) -> None:
        """A bug in the engine, not a lab error it reported: say where the traceback is,
        keep the keys working (n: new run, q: quit), exit 3."""
        self.run_error = error
        self.exit_code = ExitCode.LAB_ERROR
        self.queue = None
        log = write_internal_error_log(error, run.run_dir) if error is not None else None
        where = f"; the traceback is in {log}" if log is not None else ""
        text = f"internal error: {type(error).__name__}: {error}{where}"
        self._stop_live(text + " · n: new run · q: quit")
        self.notify(text, title="the run crashed", severity="error", timeout=30)

    def _stop_live(self, status: str) -> None:
        if self.live_screen is not None:
            self.live_screen.refresh_from_snapshot(everything=True)
            self.live_screen.stop_watching()
            self.live_screen.set_status(status)
        self.stopping = False
        self.refresh_bindings()  # the footer drops "Stop run" and the chaos keys

    def _finish(self, run: LabRun, result: RunResult) -> None:
        finished = finish_run(
            run,
            result,
            json_path=self.json_path,
            junit_path=self.junit_path,
            markdown_path=self.markdown_path,
            html_path=self.html_path,
        )
        self.finished, self.exit_code = finished, finished.exit_code
        self.scored = ScoredRun(
            finished.report,
            finished.report_path,
            run.run_dir,
            finished.problem,
            None,  # a lab error the engine reported has no traceback, only its message
            result.target_log,
            result.record,
        )
        headline = finished.report["verdict"]["headline"]
        if finished.problem:
            self.notify(finished.problem, title="report", severity="error", timeout=10)
        if self.quitting:
            self._stop_live(headline)
            self.exit(int(self.exit_code), return_code=int(self.exit_code))
            return
        if self.queue is not None and not self.queue.cancelled:
            self.queue.record(finished)
            self._stop_live(f"{headline} · next run in {self.final_pause:g} s")
            self.after_pause(self._next_in_queue)
            return
        if self.queue is not None:  # stopped mid-queue: this run's scorecard, then done
            self.queue = None
        self._stop_live(f"{headline} · scorecard in {self.final_pause:g} s (enter: now)")
        self.after_pause(self._show_scorecard)

    def after_pause(self, then: Callable[[], None]) -> None:
        """`then` after the final pause, or at once on enter (m on the suite screen)."""
        self.set_pending_scorecard(then)
        self.set_timer(self.final_pause, self.action_show_scorecard)

    def set_pending_scorecard(self, then: Callable[[], None]) -> None:
        self._pending_scorecard = then
        self.refresh_bindings()

    def _show_scorecard(self) -> None:
        if self.scored is None:
            return
        while self.screen is not self.live_screen and len(self.screen_stack) > 1:
            self.pop_screen()  # e.g. the command palette was open on top
        self.switch_screen(ScorecardScreen(self.scored))
        self.live_screen = None


def run_app(
    *,
    run: LabRun | None = None,
    json_path: Path | None = None,
    junit_path: Path | None = None,
    markdown_path: Path | None = None,
    html_path: Path | None = None,
    catalog: Catalog | None = None,
    past: ScoredRun | None = None,
    workshop: object | None = None,
    workshop_folder: Path | None = None,
    suite: SuiteRun | None = None,
) -> int:
    """`lab` (picker), `lab run --tui`, `lab run SUITE --tui`, `lab report RUN --tui` or
    `lab workshop`; returns the process exit code."""
    if run is None and suite is None and catalog is None:
        catalog = default_catalog()
    app = GaplabApp(
        run=run,
        catalog=catalog,
        json_path=json_path,
        junit_path=junit_path,
        past=past,
        workshop=workshop,
        workshop_folder=workshop_folder,
        markdown_path=markdown_path,
        html_path=html_path,
        suite=suite,
    )
    app.freeze_gc = True
    result = app.run()
    if result is not None:
        return int(result)
    return app.return_code if app.return_code is not None else int(ExitCode.LAB_ERROR)


__all__ = ["GaplabApp", "QueuedRun", "RunQueue", "run_app"]
