"""The Textual app: `run_app()` is the picker (bare `lab`), `run_app(run=...)` is
`lab run --tui`. Returns the same exit codes as headless (`gaplab.exit_codes`).

The engine runs as an async worker (group "run", exclusive) on the app's event loop;
screens pull its snapshot on a tick. Quitting mid-run cancels the worker, waits for the
engine's partial result and teardown, writes the report, then exits with 130.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Iterable
from pathlib import Path
from typing import ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from gaplab.engine.run import LabRun, RunResult
from gaplab.errors import InputError
from gaplab.exit_codes import ExitCode
from gaplab.headless import Finished, finish_run
from gaplab.tui.catalog import Catalog, default_catalog
from gaplab.tui.commands import lab_commands
from gaplab.tui.screens.home import HomeScreen
from gaplab.tui.screens.live import LiveRunScreen
from gaplab.tui.screens.scorecard import ScorecardScreen


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
    ]

    def __init__(
        self,
        *,
        run: LabRun | None = None,
        catalog: Catalog | None = None,
        json_path: Path | None = None,
        junit_path: Path | None = None,
        markdown_path: Path | None = None,
        html_path: Path | None = None,
    ) -> None:
        super().__init__()
        self.initial_run = run
        self.catalog = catalog
        self.json_path = json_path
        self.junit_path = junit_path
        self.markdown_path = markdown_path
        self.html_path = html_path
        self.exit_code = ExitCode.READY
        self.current_run: LabRun | None = None
        self.live_screen: LiveRunScreen | None = None
        self.finished: Finished | None = None
        self.run_error: BaseException | None = None
        self.stopping = False
        self.quitting = False

    # -- lifecycle -----------------------------------------------------------------------

    def on_mount(self) -> None:
        # SIGTERM (e.g. a CI timeout) gets the same orderly stop as pressing q.
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, self.request_quit)
        if self.initial_run is not None:
            self.start_run(self.initial_run)
        elif self.catalog is not None:
            self.push_screen(HomeScreen(self.catalog))

    def on_unmount(self) -> None:
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            asyncio.get_running_loop().remove_signal_handler(signal.SIGTERM)

    @property
    def run_active(self) -> bool:
        return any(w.group == "run" and not w.is_finished for w in self.workers)

    def start_run(self, run: LabRun) -> None:
        self.current_run, self.finished, self.run_error = run, None, None
        self.stopping = False
        self.live_screen = LiveRunScreen(run)
        self.push_screen(self.live_screen)
        self.run_worker(
            run.execute(),
            name=run.run_id,
            group="run",
            exclusive=True,
            exit_on_error=False,
            description=f"{run.scenario.name} against {run.options.target_label}",
        )

    def run_from_catalog(self, scenario: str, target: str) -> None:
        if self.catalog is None or self.run_active:
            return
        try:
            run = self.catalog.build_run(scenario, target)
        except InputError as exc:
            self.notify(str(exc), title="cannot run", severity="error", timeout=10)
            return
        self.start_run(run)

    def on_home_screen_run_requested(self, message: HomeScreen.RunRequested) -> None:
        self.run_from_catalog(message.scenario, message.target)

    # -- actions ---------------------------------------------------------------------------

    def action_stop_run(self) -> None:
        if not self.run_active:
            return
        if self.stopping:
            self.notify("Still stopping: the lab's processes are being shut down")
            return
        self.stopping = True
        if self.live_screen is not None:
            self.live_screen.set_status("stopping: users, target, proxy and provider…")
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

    def action_new_run(self) -> None:
        if self.catalog is None or self.run_active:
            return
        while len(self.screen_stack) > 1 and not isinstance(self.screen, HomeScreen):
            self.pop_screen()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "new_run":
            return self.catalog is not None and not self.run_active
        if action == "stop_run":
            return self.run_active
        return True

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield from lab_commands(self)

    # -- the run's end ---------------------------------------------------------------------

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.group != "run" or self.current_run is None:
            return
        if worker.name != self.current_run.run_id:
            return  # a run replaced by a newer one (exclusive group): nothing to show
        if event.state is WorkerState.SUCCESS:
            result = worker.result
            assert isinstance(result, RunResult)
            self._finish(self.current_run, result)
        elif event.state is WorkerState.ERROR:
            # A bug in the engine, not a lab error it reported: show it, exit 3.
            self.run_error = worker.error
            self.exit_code = ExitCode.LAB_ERROR
            self._stop_live(f"lab error: {worker.error!r}")
            self.notify(repr(worker.error), title="the run crashed", severity="error")
        elif event.state is WorkerState.CANCELLED:
            # Cancelled before the engine started: nothing ran, so there is no report.
            self.exit_code = ExitCode.INTERRUPTED
            self._stop_live("stopped before the run started")
        else:
            return
        if self.quitting and self.finished is None:
            self.exit(int(self.exit_code), return_code=int(self.exit_code))

    def _stop_live(self, status: str) -> None:
        if self.live_screen is not None:
            self.live_screen.refresh_from_snapshot()
            self.live_screen.stop_watching()
            self.live_screen.set_status(status)
        self.stopping = False

    def _finish(self, run: LabRun, result: RunResult) -> None:
        self._stop_live(f"run {result.status}")
        finished = finish_run(
            run,
            result,
            json_path=self.json_path,
            junit_path=self.junit_path,
            markdown_path=self.markdown_path,
            html_path=self.html_path,
        )
        self.finished, self.exit_code = finished, finished.exit_code
        if finished.problem:
            self.notify(finished.problem, title="report", severity="error", timeout=10)
        if self.quitting:
            self.exit(int(self.exit_code), return_code=int(self.exit_code))
            return
        while self.screen is not self.live_screen and len(self.screen_stack) > 1:
            self.pop_screen()  # e.g. the command palette was open on top
        self.switch_screen(ScorecardScreen(finished))
        self.live_screen = None


def run_app(
    *,
    run: LabRun | None = None,
    json_path: Path | None = None,
    junit_path: Path | None = None,
    markdown_path: Path | None = None,
    html_path: Path | None = None,
    catalog: Catalog | None = None,
) -> int:
    """`lab` (picker) or `lab run --tui` (one run); returns the process exit code."""
    if run is None and catalog is None:
        catalog = default_catalog()
    app = GaplabApp(
        run=run,
        catalog=catalog,
        json_path=json_path,
        junit_path=junit_path,
        markdown_path=markdown_path,
        html_path=html_path,
    )
    result = app.run()
    if result is not None:
        return int(result)
    return app.return_code if app.return_code is not None else int(ExitCode.LAB_ERROR)
