"""The `lab` command line (also installed as `gaplab`).

`lab` alone opens the TUI; `lab run` is the headless mode for CI; `lab validate`, `lab list`
and `lab report` work on files; `lab provider|proxy|demo serve` run one part on its own.
Errors in user input exit with 2 and a `file:line:column: field: message` line, never a
traceback; a bug in gaplab exits with 3 and "internal error: ..." (the traceback goes to
`runs/<id>/lab-error.log`, or a temporary file); see `gaplab.exit_codes` for the codes.
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback
from pathlib import Path
from typing import Any, ClassVar, NoReturn

import click

from gaplab import __version__
from gaplab.checks.scoring import DEFAULT_FAIL_UNDER
from gaplab.errors import InputError, LabError, Problem, write_internal_error_log
from gaplab.exit_codes import ExitCode, exit_code_for


def _fail_input(exc: InputError) -> NoReturn:
    for problem in exc.problems:
        click.echo(f"error: {str(problem).removeprefix(': ')}", err=True)
    sys.exit(ExitCode.INVALID_INPUT)


def _fail_lab(exc: LabError) -> NoReturn:
    click.echo(f"lab error: {exc}", err=True)
    sys.exit(ExitCode.LAB_ERROR)


# `ctx.meta` key under which a command notes its run folder, for the internal-error log.
RUN_DIR_META = "gaplab.run_dir"


def _fail_internal(exc: Exception, ctx: click.Context) -> NoReturn:
    """A bug in gaplab: exit 3 (never 1, which CI reads as "not ready"), traceback kept."""
    run_dir = ctx.meta.get(RUN_DIR_META)
    log = write_internal_error_log(exc, run_dir if isinstance(run_dir, Path) else None)
    click.echo(f"internal error: {type(exc).__name__}: {exc}", err=True)
    if log is None:
        click.echo("".join(traceback.format_exception(exc)), err=True, nl=False)
    else:
        click.echo(f"the traceback is in {log}; please report it with that file", err=True)
    sys.exit(ExitCode.LAB_ERROR)


class _Group(click.Group):
    """Usage errors exit with 2 (click's default too) and our own errors never traceback.

    The `provider`, `proxy` and `demo` groups are imported only when used, so `lab run`
    does not load the code of parts it does not need.
    """

    lazy: ClassVar[dict[str, str]] = {
        "provider": "gaplab.provider.cli:provider_group",
        "proxy": "gaplab.netfault.cli:proxy_group",
        "demo": "gaplab.demo.cli:demo_group",
        "payloads": "gaplab.load.payloads_cli:payloads_command",
        "runs": "gaplab.report.runs:runs_group",
        "compare": "gaplab.report.compare:compare_command",
        "workshop": "gaplab.workshop.cli:workshop_command",
        "serve": "gaplab.tui.serve:serve_command",
        "matrix": "gaplab.matrix.cli:matrix_command",
        "attest": "gaplab.suite.attest_cli:attest_group",
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.lazy])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy:
            module_name, attribute = self.lazy[cmd_name].split(":")
            command = getattr(importlib.import_module(module_name), attribute)
            assert isinstance(command, click.Command)
            return command
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> object:
        """Every command runs through here: input errors exit 2, lab errors 3, an
        interruption 130, and any other exception is an internal error (3, with a log).
        Click's own usage errors and exits pass through unchanged (usage errors exit 2)."""
        try:
            return super().invoke(ctx)
        except InputError as exc:
            _fail_input(exc)
        except LabError as exc:
            _fail_lab(exc)
        except (click.ClickException, click.exceptions.Exit):
            raise
        except (KeyboardInterrupt, click.Abort):
            click.echo("interrupted", err=True)
            sys.exit(ExitCode.INTERRUPTED)
        except Exception as exc:
            _fail_internal(exc, ctx)


@click.group(
    cls=_Group,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(__version__, prog_name="gaplab")
@click.pass_context
def main(ctx: click.Context) -> None:
    """gaplab: put an AI feature through what production does to it, and score it."""
    if ctx.invoked_subcommand is None:
        from gaplab.tui.app import run_app

        sys.exit(run_app())


@main.command()
@click.argument("scenario")
@click.option(
    "--target",
    "-t",
    help="demo:naive, demo:hardened[?without=...], or a target "
    "file (default: the scenario's target)",
)
@click.option("--seed", type=int, help="override the scenario's seed")
@click.option(
    "--json",
    "json_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="write the JSON report",
)
@click.option(
    "--junit",
    "junit_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="write a JUnit XML report (one test case per check)",
)
@click.option(
    "--markdown",
    "markdown_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="write a Markdown summary (for $GITHUB_STEP_SUMMARY or a PR comment)",
)
@click.option(
    "--html",
    "html_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="write a self-contained HTML report (charts, evidence, example requests)",
)
@click.option(
    "--fail-under",
    type=click.FloatRange(0, 100),
    default=DEFAULT_FAIL_UNDER,
    show_default=True,
    help="minimum score (percent) for exit code 0",
)
@click.option(
    "--runs-dir",
    type=click.Path(path_type=Path),
    default=Path("runs"),
    show_default=True,
    help="where run journals and reports go",
)
@click.option(
    "--toxiproxy",
    "toxiproxy_url",
    metavar="URL",
    help="use this Toxiproxy server for network faults instead of the embedded one",
)
@click.option(
    "--load",
    "load_engine",
    type=click.Choice(["builtin", "locust"]),
    default="builtin",
    show_default=True,
    help="who sends the virtual users: the built-in generator, or Locust (gaplab[locust])",
)
@click.option(
    "--locust-workers",
    type=click.IntRange(0, 256),
    default=0,
    show_default=True,
    help="with --load locust: a Locust master and this many local worker processes",
)
@click.option(
    "--expect-workers",
    type=click.IntRange(1, 4096),
    help="with --load locust: workers the master waits for, local and remote "
    "(`lab locust-worker`); default: --locust-workers",
)
@click.option(
    "--locust-port",
    type=click.IntRange(1, 65535),
    help="with --load locust: the master's port for workers (default: free; 5557 with remote ones)",
)
@click.option("--tui", is_flag=True, help="show the run live in the terminal UI")
@click.option(
    "--attest",
    "attest_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="a suite's attestation file (default: the suite's, or a demo target's own)",
)
@click.option(
    "--time-scale",
    type=click.FloatRange(0, 1, min_open=True),
    help="a suite: every phase this many times as long (default: the suite file's)",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 8),
    help="a suite: scenarios played at once (default: the suite file's)",
)
def run(
    scenario: str,
    target: str | None,
    seed: int | None,
    json_path: Path | None,
    junit_path: Path | None,
    markdown_path: Path | None,
    html_path: Path | None,
    fail_under: float,
    runs_dir: Path,
    toxiproxy_url: str | None,
    load_engine: str,
    locust_workers: int,
    expect_workers: int | None,
    locust_port: int | None,
    tui: bool,
    attest_path: Path | None,
    time_scale: float | None,
    concurrency: int | None,
) -> None:
    """Run SCENARIO (a file, or the name of a bundled scenario) against a target; or a
    suite (`lab run readiness`): every scenario it lists, merged into one scorecard."""
    from gaplab.suite.loading import find_suite

    suite_path = find_suite(scenario)
    if suite_path is not None:
        _run_suite(
            suite_path,
            target=target,
            attest=attest_path,
            reports=(json_path, junit_path, markdown_path, html_path),
            runs_dir=runs_dir,
            time_scale=time_scale,
            concurrency=concurrency,
            tui=tui,
            unsupported={"--seed": seed, "--toxiproxy": toxiproxy_url},
        )
    if attest_path is not None or time_scale is not None or concurrency is not None:
        raise click.UsageError("--attest, --time-scale and --concurrency are for suites")
    from gaplab.engine.run import LabRun, RunOptions
    from gaplab.output_paths import check_output_file, check_runs_dir
    from gaplab.scenario.library import (
        load_scenario_document,
        resolve_scenario_target,
        scope_warnings,
    )
    from gaplab.target.resolve import resolve_target

    # Everything the run depends on is checked before anything starts (exit 2).
    model, path, document = load_scenario_document(scenario)
    for warning in scope_warnings(model, document):
        click.echo(f"warning: {warning}", err=True)
    target_label = target or model.target
    if target is None:
        target_file = resolve_scenario_target(model, path, document)
    else:
        target_file = resolve_target(
            target_label, relative_to=path.parent, interface=model.interface
        )
    if toxiproxy_url is not None:
        _check_toxiproxy_url(toxiproxy_url)
    if load_engine == "locust":
        from gaplab.locust_load import check_locust_run

        check_locust_run(model, target_file)
    elif locust_workers or expect_workers or locust_port:
        raise InputError("--locust-workers, --expect-workers and --locust-port need --load locust")
    check_runs_dir(runs_dir)
    for option, output in (
        ("--json", json_path),
        ("--junit", junit_path),
        ("--markdown", markdown_path),
        ("--html", html_path),
    ):
        if output is not None:
            check_output_file(output, option)
    options = RunOptions(
        scenario=model,
        target=target_file,
        target_label=target_label,
        seed=seed,
        runs_dir=runs_dir,
        toxiproxy_url=toxiproxy_url,
        fail_under=fail_under,
        load_engine=load_engine,
        locust_workers=locust_workers,
        expect_workers=expect_workers,
        locust_port=locust_port,
    )
    lab_run = LabRun(options)
    click.get_current_context().meta[RUN_DIR_META] = lab_run.run_dir
    if tui:
        from gaplab.tui.app import run_app

        sys.exit(
            run_app(
                run=lab_run,
                json_path=json_path,
                junit_path=junit_path,
                markdown_path=markdown_path,
                html_path=html_path,
            )
        )
    from gaplab.headless import run_headless

    sys.exit(
        run_headless(
            lab_run,
            json_path=json_path,
            junit_path=junit_path,
            markdown_path=markdown_path,
            html_path=html_path,
        )
    )


@main.command("locust-worker")
@click.option(
    "--master",
    "master",
    required=True,
    metavar="HOST:PORT",
    help="the Locust master of a `lab run --load locust --expect-workers N` (port 5557)",
)
def locust_worker(master: str) -> None:
    """Join a run's Locust master as a worker, from this machine (gaplab[locust])."""
    from gaplab.locust_load import require_locust

    require_locust()
    host, _, port = master.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise InputError(f"--master {master}: expected HOST:PORT, e.g. 10.0.0.5:5557")
    os.execv(
        sys.executable,
        [sys.executable, "-m", "gaplab.locust_load.main", "worker", host, port],
    )


def _run_suite(
    path: Path,
    *,
    target: str | None,
    attest: Path | None,
    reports: tuple[Path | None, Path | None, Path | None, Path | None],
    runs_dir: Path,
    time_scale: float | None,
    concurrency: int | None,
    tui: bool,
    unsupported: dict[str, object],
) -> NoReturn:
    """`lab run` of a suite file (gaplab.suite): everything checked first, then run, on
    the console or, with --tui, live in the terminal UI (gaplab.tui.suite_driver)."""
    from gaplab.output_paths import check_output_file, check_runs_dir
    from gaplab.suite.headless import run_suite_headless
    from gaplab.suite.loading import load_suite

    given = [option for option, value in unsupported.items() if value is not None]
    if given:
        raise click.UsageError(f"{', '.join(given)}: not for a suite (each scenario has its own)")
    loaded = load_suite(path, target=target, attest=attest)
    check_runs_dir(runs_dir)
    for option, output in zip(("--json", "--junit", "--markdown", "--html"), reports, strict=True):
        if output is not None:
            check_output_file(output, option)
    json_path, junit_path, markdown_path, html_path = reports
    if tui:
        from gaplab.suite.runner import SuiteRun
        from gaplab.tui.app import run_app

        run = SuiteRun(loaded, runs_dir, time_scale=time_scale, concurrency=concurrency)
        sys.exit(
            run_app(
                suite=run,
                json_path=json_path,
                junit_path=junit_path,
                markdown_path=markdown_path,
                html_path=html_path,
            )
        )
    sys.exit(
        run_suite_headless(
            loaded,
            runs_dir,
            json_path=json_path,
            junit_path=junit_path,
            markdown_path=markdown_path,
            html_path=html_path,
            time_scale=time_scale,
            concurrency=concurrency,
        )
    )


def _report_suite(
    folder: Path, document: dict[str, Any], *, tui: bool, **outputs: Path | None
) -> int:
    """`lab report SUITE_FOLDER [--tui]`: the merged scorecard, on the console or in the
    terminal UI, the report files asked for, and the suite's exit code."""
    from gaplab.suite.headless import (
        suite_exit_code,
        suite_scorecard_renderable,
        write_past_suite_files,
    )

    write_past_suite_files(folder, document, **outputs)
    if tui:
        from gaplab.tui.app import run_app
        from gaplab.tui.past import scored_from_folder

        run_app(past=scored_from_folder(folder))
    else:
        from rich.console import Console

        Console(width=160, soft_wrap=True).print(suite_scorecard_renderable(document))
    return suite_exit_code(document)


def _check_toxiproxy_url(url: str) -> None:
    """`--toxiproxy`: `http://host:port` or `host:port`, as the Toxiproxy client reads it."""
    from urllib.parse import urlsplit

    parts = urlsplit(url if "://" in url else f"http://{url}")
    try:
        port = parts.port
    except ValueError:
        raise InputError(f"--toxiproxy {url}: the port must be 0-65535") from None
    if parts.scheme not in {"http", "https"} or not parts.hostname or port == 0:
        raise InputError(
            f"--toxiproxy {url}: expected http://host:port, e.g. http://127.0.0.1:8474"
        )


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
def validate(files: tuple[Path, ...]) -> None:
    """Check scenario and target files; print every problem as file:line:column.

    Runs every check `lab run` runs before it starts anything: the models, check ids and
    options, the provider profile and the default target a scenario names, a target's
    placeholders, start command and JSON paths."""
    from gaplab.scenario.library import check_scenario, resolve_scenario_target, scope_warnings
    from gaplab.scenario.loader import read_document
    from gaplab.scenario.models import Scenario
    from gaplab.scenario.suite_models import looks_like_suite
    from gaplab.scenario.target_models import TargetFile
    from gaplab.suite.loading import load_suite
    from gaplab.target.resolve import check_target

    problems = []
    for path in files:
        try:
            document = read_document(path)
            data = document.data
            if looks_like_suite(data):
                loaded = load_suite(path)
                for entry in loaded.entries:
                    click.echo(
                        f"ok: {entry.path} (scenario of the suite, target {entry.target_label})"
                    )
                kind = f"suite of {len(loaded.entries)} scenarios"
            elif isinstance(data, dict) and "request" in data and "phases" not in data:
                target = document.validate(TargetFile)
                check_target(target, document.file, document.positions)
                kind = "target"
            else:
                scenario = document.validate(Scenario)
                found: list[Problem] = []
                try:
                    check_scenario(scenario, document)
                except InputError as exc:
                    found.extend(exc.problems)
                try:
                    resolve_scenario_target(scenario, path, document)
                except InputError as exc:
                    found.extend(exc.problems)
                if found:
                    raise InputError(found)
                for warning in scope_warnings(scenario, document):
                    click.echo(f"warning: {warning}", err=True)
                kind = "scenario"
            click.echo(f"ok: {path} ({kind})")
        except InputError as exc:
            problems.extend(exc.problems)
    if problems:
        _fail_input(InputError(problems))


@main.command("list")
def list_() -> None:
    """List the bundled scenarios, demo targets and checks."""
    from gaplab.checks.registry import CHECKS
    from gaplab.scenario.library import bundled_scenarios
    from gaplab.scenario.loader import load_model
    from gaplab.scenario.models import Scenario

    click.echo("scenarios:")
    for name, path in bundled_scenarios().items():
        try:
            title = load_model(path, Scenario).title
        except InputError as exc:
            title = f"(invalid: {exc})"
        click.echo(f"  {name:<18} {title}")
    from gaplab.suite.loading import bundled_suites

    click.echo("suites (lab run NAME: every scenario listed, one scorecard):")
    for name, suite in bundled_suites().items():
        click.echo(f"  {name:<18} {suite.title} ({len(suite.scenarios)} scenarios)")
    click.echo("targets:")
    from gaplab.demo.options import DEFENCES, DEMO_DESCRIPTIONS

    for name, description in DEMO_DESCRIPTIONS.items():
        click.echo(f"  demo:{name:<16} {description}")
    click.echo("  defences of demo:hardened (remove with ?without=a,b):")
    width = max(map(len, DEFENCES))
    for name, description in DEFENCES.items():
        click.echo(f"    {name:<{width}}  {description}")
    click.echo("checks:")
    for check_id, check in CHECKS.items():
        star = "★" if check.critical else " "
        click.echo(f"  {star} {check_id:<30} {check.title}")


@main.command()
@click.argument("run_dir", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option("--json", "json_path", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--junit", "junit_path", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--markdown", "markdown_path", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--html", "html_path", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--fail-under", type=click.FloatRange(0, 100), default=DEFAULT_FAIL_UNDER, show_default=True
)
@click.option("--tui", is_flag=True, help="open the scorecard in the terminal UI")
def report(
    run_dir: Path,
    json_path: Path | None,
    junit_path: Path | None,
    markdown_path: Path | None,
    html_path: Path | None,
    fail_under: float,
    tui: bool,
) -> None:
    """Rebuild the reports of a past run from its journal (runs/<run-id>)."""
    from rich.console import Console

    from gaplab.engine.journal import JOURNAL_NAME, SkippedLine
    from gaplab.output_paths import check_output_file
    from gaplab.report.console import print_scorecard
    from gaplab.report.rebuild import rebuild_report
    from gaplab.report.writers import write_report_files

    for option, output in (
        ("--json", json_path),
        ("--junit", junit_path),
        ("--markdown", markdown_path),
        ("--html", html_path),
    ):
        if output is not None:
            check_output_file(output, option)
    from gaplab.suite.report import read_suite_report

    suite = read_suite_report(run_dir)
    if suite is not None:  # a suite's folder: its combined report, as `lab run SUITE` ended
        outputs = {"json_path": json_path, "junit_path": junit_path}
        outputs.update(markdown_path=markdown_path, html_path=html_path)
        sys.exit(_report_suite(run_dir, suite, tui=tui, **outputs))
    skipped: list[SkippedLine] = []
    document = rebuild_report(run_dir, fail_under=fail_under, skipped=skipped)
    if skipped:
        shown = ", ".join(str(line) for line in skipped[:10])
        more = f", and {len(skipped) - 10} more" if len(skipped) > 10 else ""
        click.echo(
            f"warning: {run_dir / JOURNAL_NAME}: skipped {len(skipped)} "
            + ("lines that are not events" if len(skipped) > 1 else "line that is not an event")
            + f": {shown}{more}; the report is built from the rest",
            err=True,
        )
    if tui:
        from gaplab.tui.app import run_app
        from gaplab.tui.past import scored_from_folder

        scored = scored_from_folder(run_dir, fail_under=fail_under)
        scored.report = document
        write_report_files(
            document,
            json_path=json_path,
            junit_path=junit_path,
            markdown_path=markdown_path,
            html_path=html_path,
        )
        run_app(past=scored)
        sys.exit(exit_code_for(document["status"], document["verdict"]["ready"]))
    print_scorecard(Console(), document)
    write_report_files(
        document,
        json_path=json_path,
        junit_path=junit_path,
        markdown_path=markdown_path,
        html_path=html_path,
    )
    sys.exit(exit_code_for(document["status"], document["verdict"]["ready"]))
