"""The app's side of a live suite (`lab run readiness --tui`, or a suite from the picker):
it shows the suite screen, runs `SuiteRun.execute()` as the app's "run" worker (the
scenarios are processes; the loop only waits on them), ends through the same
`finish_suite` as the console (same combined report, same exit code: 0 ready, 1 not
ready, 130 stopped, 3 a lab error), then shows the merged scorecard.

Stopping (s, q, Ctrl-C, SIGTERM) is the app's: it cancels the worker, which is exactly
cancelling `execute()` on the console path: SIGINT to the running scenarios, their
partial reports awaited (a stuck one killed after the runner's grace), no more started.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from textual.worker import Worker, WorkerState

from gaplab.errors import write_internal_error_log
from gaplab.exit_codes import ExitCode
from gaplab.suite.headless import SuiteFinished, finish_suite
from gaplab.suite.runner import SuiteRun
from gaplab.tui.screens.suite import SuiteScreen
from gaplab.tui.screens.suite_scorecard import SuiteScorecardScreen, suite_scored

if TYPE_CHECKING:
    from gaplab.tui.app import GaplabApp

STOPPING = "stopping: SIGINT to the running scenarios; each writes its partial report…"


class SuiteDriver:
    def __init__(self, app: GaplabApp, run: SuiteRun) -> None:
        self.app = app
        self.run = run
        self.worker_name = f"suite:{run.run_dir.name}"
        self.screen = SuiteScreen(run)
        self.finished: SuiteFinished | None = None

    def start(self) -> None:
        self.app.push_screen(self.screen)
        self.app.run_worker(
            self._play(),
            name=self.worker_name,
            group="run",
            exclusive=True,
            exit_on_error=False,
            description=f"suite {self.run.suite.suite}: {len(self.run.order)} scenarios",
        )

    async def _play(self) -> SuiteFinished:
        # execute() takes the worker's cancellation itself and returns what ran.
        outcomes = await self.run.execute()
        interrupted = self.run.snapshot().interrupted
        app = self.app
        writing = asyncio.ensure_future(
            asyncio.to_thread(
                finish_suite,
                self.run,
                outcomes,
                interrupted=interrupted,
                json_path=app.json_path,
                junit_path=app.junit_path,
                markdown_path=app.markdown_path,
                html_path=app.html_path,
            )
        )  # the merge and the report files off the loop; a late stop still gets them
        try:
            return await asyncio.shield(writing)
        except asyncio.CancelledError:
            return await writing

    def stopping(self) -> None:
        self.screen.set_status(STOPPING)

    def worker_changed(self, worker: Worker[object], state: WorkerState) -> None:
        app = self.app
        if state is WorkerState.SUCCESS:
            finished = worker.result
            assert isinstance(finished, SuiteFinished)
            self._ended(finished)
        elif state is WorkerState.ERROR:
            self._crashed(worker.error)
        elif state is WorkerState.CANCELLED:  # before execute() began: nothing ran
            app.exit_code = ExitCode.INTERRUPTED
            self.screen.end("stopped before the suite started · q: quit")
        else:
            return
        app.stopping = False
        app.refresh_bindings()
        if app.quitting:
            app.exit(int(app.exit_code), return_code=int(app.exit_code))

    def _ended(self, finished: SuiteFinished) -> None:
        app = self.app
        self.finished = finished
        app.exit_code = finished.exit_code
        app.scored = suite_scored(finished.document, finished.report_path, self.run.run_dir)
        headline = finished.document["verdict"]["headline"]
        if app.quitting:
            self.screen.end(headline)
            return
        pause = app.final_pause
        self.screen.end(
            f"{headline} · merged scorecard in {pause:g} s (m: now) · enter on a scenario: "
            "its own scorecard"
        )
        app.after_pause(self.show_scorecard)

    def _crashed(self, error: BaseException | None) -> None:
        app = self.app
        app.run_error = error
        app.exit_code = ExitCode.LAB_ERROR
        log = write_internal_error_log(error, self.run.run_dir) if error is not None else None
        where = f"; the traceback is in {log}" if log is not None else ""
        text = f"internal error: {type(error).__name__}: {error}{where}"
        self.screen.end(text + " · q: quit")
        app.notify(text, title="the suite crashed", severity="error", timeout=30)

    def show_scorecard(self) -> None:
        """The merged scorecard over the suite screen (escape: back to the scenarios); it
        waits while another screen (a scenario's scorecard) is open, m shows it again."""
        app = self.app
        app.set_pending_scorecard(self.show_scorecard)
        if app.scored is None or app.screen is not self.screen:
            return
        app.push_screen(SuiteScorecardScreen(app.scored))

    def screenshot_dir(self) -> Path:
        return self.run.run_dir
