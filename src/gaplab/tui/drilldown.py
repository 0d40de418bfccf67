"""Drill-down from an example request id: what the user sent and got, and every provider call
it caused, with the messages the target sent upstream.

The report's `example_requests` hold the request and its calls (status, timing, retries);
the run record's join adds the calls' messages and the user's payload. A past run's record
is read back from its journal (`load_record`); without one the view shows what the report
has. Text from the record is masked like the report's (gaplab.report.masking).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from gaplab.engine.journal import JOURNAL_NAME, read_journal
from gaplab.engine.record import RunRecord
from gaplab.report import figures
from gaplab.report.masking import Masker

MESSAGE_CHARS = 600  # per message shown; the journal keeps it whole


def load_record(run_dir: Path) -> RunRecord | None:
    """The record of a past run, from its journal (None if there is none)."""
    journal = run_dir / JOURNAL_NAME
    if not journal.is_file():
        return None
    return RunRecord.from_events(read_journal(journal, []))


def _clip(text: str) -> str:
    return text if len(text) <= MESSAGE_CHARS else text[:MESSAGE_CHARS] + " …"


def request_view(example: dict[str, Any], record: RunRecord | None) -> RenderableType:
    masker = Masker.for_record(record) if record is not None else Masker()
    request_id = example["request_id"]
    head = Table.grid(padding=(0, 2))
    head.add_column(style="dim", no_wrap=True)
    head.add_column(overflow="fold")
    got = (
        f"{example['outcome']} · HTTP {example['status']}"
        if example["status"]
        else (f"{example['outcome']} · no answer")
    )
    head.add_row("request", request_id)
    head.add_row("phase", f"{example['phase']} · sent at {figures.duration(example['started_s'])}")
    head.add_row("input", example.get("input_kind", ""))
    head.add_row("the user got", got)
    head.add_row("after", figures.duration(example["latency_s"]))
    if example.get("detail"):
        head.add_row("why", example["detail"])
    if example.get("excerpt"):
        head.add_row("excerpt", example["excerpt"])
    parts: list[RenderableType] = [head]
    sent = None
    calls_by_id: dict[str, Any] = {}
    if record is not None:
        request = next((r for r in record.requests if r.request_id == request_id), None)
        if request is not None:
            sent = masker.text(request.payload)
            calls_by_id = {c.call_id: c for c in record.join().calls_for(request_id)}
    if sent:
        parts += [Text(""), Text("what the user sent", style="bold"), Text(_clip(sent))]
    calls = example.get("calls") or []
    total = example.get("calls_total", len(calls))
    parts += [
        Text(""),
        Text(
            f"provider calls it caused: {total} ({example.get('retries', 0)} retries)", style="bold"
        ),
    ]
    table = Table(box=None, padding=(0, 1), expand=True, header_style="bold")
    for name in ("call", "at", "status", "retry", "model", "took", "fault"):
        table.add_column(name, overflow="fold")
    for call in calls:
        table.add_row(
            call["call_id"],
            f"+{figures.duration(call['offset_s'])}",
            f"{call['status']} {call['outcome']}",
            "-" if call["retry_count"] is None else str(call["retry_count"]),
            call.get("model") or "-",
            figures.duration(call["duration_s"]),
            call.get("fault") or "-",
        )
    parts.append(table)
    if len(calls) < total:
        parts.append(Text(f"… and {total - len(calls)} more calls", style="dim"))
    for call in calls:
        found = calls_by_id.get(call["call_id"])
        if found is None or not found.messages:
            continue
        parts += [Text(""), Text(f"messages of {call['call_id']}", style="bold")]
        for message in found.messages:
            content = message.get("content", "")
            if not isinstance(content, str):
                content = str(content)
            parts.append(Text(f"{message.get('role', '?')}: {_clip(masker.text(content))}"))
    return Group(*parts)
