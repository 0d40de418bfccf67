"""The hardened demo's note enrichment: a one-line AI summary of each note.

- `async_write`: adding a note answers at once and the summary is written by a background
  worker from a queue (two workers, so enrichment is bounded too); without it the write
  waits for the model, as the naive demo's does (the hardened AI call still has its time
  budget and fallback: a failed enrichment leaves the note without a summary).
- `idempotency`: re-enriching a note that has its summary makes no model call, and a note
  being enriched is not enriched twice at once; without it every request calls the model.
- The kill switch pauses enrichment: a queued note waits until the AI is back on.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid

from gaplab.demo.ai_call import describe_failure
from gaplab.demo.hardened_pipeline import HardenedPipeline, log
from gaplab.demo.service import Note, note_messages

WORKERS = 2
QUEUE_SIZE = 1_000


class HardenedNotes:
    def __init__(self, pipeline: HardenedPipeline) -> None:
        self._pipeline = pipeline
        self._queue: asyncio.Queue[Note] = asyncio.Queue(QUEUE_SIZE)
        self._workers: list[asyncio.Task[None]] = []
        self._running: dict[int, asyncio.Task[None]] = {}  # note id -> its enrichment

    def start(self) -> None:
        if self._pipeline.has("async_write"):
            self._workers = [asyncio.create_task(self._work()) for _ in range(WORKERS)]

    async def stop(self) -> None:
        for worker in self._workers:
            worker.cancel()
        for worker in self._workers:
            with contextlib.suppress(asyncio.CancelledError):
                await worker

    async def created(self, note: Note) -> None:
        if self._pipeline.has("async_write"):
            try:
                self._queue.put_nowait(note)
            except asyncio.QueueFull:
                log.warning("note %d: enrichment queue full, left for a re-run", note.id)
            return
        await self._enrich_now(note)

    async def enrich(self, note: Note) -> None:
        if not self._pipeline.has("idempotency"):
            await self._enrich_now(note)
            return
        if note.summary is not None:
            log.info("note %d: already enriched, no model call", note.id)
            return
        running = self._running.get(note.id)
        if running is None:
            running = asyncio.ensure_future(self._enrich_now(note))
            self._running[note.id] = running
            running.add_done_callback(lambda _: self._running.pop(note.id, None))
        await asyncio.shield(running)

    async def _work(self) -> None:
        while True:
            note = await self._queue.get()
            while not self._pipeline.ai_enabled:  # noqa: ASYNC110 (a flag the admin route sets)
                await asyncio.sleep(0.5)  # switched off: keep the note for later
            if note.summary is None or not self._pipeline.has("idempotency"):
                await self._enrich_now(note)
            self._queue.task_done()

    async def _enrich_now(self, note: Note) -> None:
        if not self._pipeline.ai_enabled:
            return
        request_id = f"note-{note.id}-{uuid.uuid4().hex[:8]}"
        try:
            completion = await self._pipeline.chat_ai.complete(
                note_messages(note), request_id, **self._pipeline.call_params()
            )
        except Exception as exc:
            log.warning("note %d: enrichment failed: %s", note.id, describe_failure(exc))
            return
        text = (completion.choices[0].message.content or "") if completion.choices else ""
        if text.strip():
            note.summary = text.strip()
