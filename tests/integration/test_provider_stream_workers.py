"""Stream workers end to end: the mock provider with `stream_workers` streams to the
official SDKs exactly what it streams on its own, keeps connections reusable, survives a
worker's death, says why a worker will not start, and leaves no process behind (stopped,
SIGTERM'd or SIGKILL'd)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import anthropic
import httpx
import openai
import pytest

from gaplab.provider import pacer_pool
from gaplab.provider.pacer import Schedule
from gaplab.provider.pacer_pool import PacerPool, StreamWorkerLost
from gaplab.provider.profiles import load_profile
from gaplab.provider.server import MockProvider

pytestmark = pytest.mark.skipif(not pacer_pool.available(), reason="needs Unix sockets")

OPENAI = load_profile("openai").with_latency_scale(0.02)
ANTHROPIC = load_profile("anthropic").with_latency_scale(0.02)
QUESTION = [{"role": "user", "content": "How do we roll back a bad deploy of the API?"}]


async def _openai_stream(provider: MockProvider, sdk: openai.AsyncOpenAI) -> list[str]:
    stream = await sdk.chat.completions.create(
        model="gpt-4o-mini",
        messages=QUESTION,  # type: ignore[arg-type]
        stream=True,
        stream_options={"include_usage": True},
        max_tokens=60,
    )
    pieces = []
    async for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            pieces.append(chunk.choices[0].delta.content)
        if chunk.usage is not None:
            pieces.append(f"<usage {chunk.usage.completion_tokens}>")
    return pieces


async def test_streams_through_workers_match_the_in_process_ones_over_one_connection() -> None:
    answers = {}
    for workers in (0, 2):
        async with MockProvider(OPENAI, seed=5, stream_workers=workers) as provider:
            sdk = openai.AsyncOpenAI(base_url=provider.openai_base_url, api_key="k", max_retries=0)
            # Three streams in a row on the SDK's one keep-alive connection: the provider
            # writes each stream's end after the worker's chunks, on the same socket.
            answers[workers] = [await _openai_stream(provider, sdk) for _ in range(3)]
            await sdk.close()
            pacer = provider._state.pacer if provider._state else None
            calls = list(provider.journal)
            if workers:
                assert isinstance(pacer, PacerPool) and pacer.workers_alive == 2
        assert [call.outcome for call in calls] == ["completed"] * 3
        content = sum(len(pieces) - 1 for pieces in answers[workers])  # minus the usage
        assert pacer is not None and pacer.chunks_sent == content
    assert answers[2] == answers[0]
    assert all(pieces[-1].startswith("<usage ") for pieces in answers[2])


async def test_anthropic_stream_through_a_worker_is_a_well_formed_message() -> None:
    async with MockProvider(ANTHROPIC, seed=2, stream_workers=1) as provider:
        sdk = anthropic.AsyncAnthropic(
            base_url=provider.anthropic_base_url, api_key="k", max_retries=0
        )
        async with sdk.messages.stream(
            model="claude-3-5-haiku-latest",
            max_tokens=80,
            messages=QUESTION,  # type: ignore[arg-type]
        ) as stream:
            text = "".join([piece async for piece in stream.text_stream])
            message = await stream.get_final_message()
        await sdk.close()
        [call] = list(provider.journal)
    assert text and message.content[0].text == text  # type: ignore[union-attr]
    assert message.stop_reason in ("end_turn", "max_tokens")
    assert call.outcome == "completed"


async def test_a_worker_that_dies_cuts_its_streams_and_later_ones_still_flow() -> None:
    pool = PacerPool(1)
    await pool.start()
    server_side: asyncio.Queue[asyncio.StreamWriter] = asyncio.Queue()
    server = await asyncio.start_server(
        lambda _, writer: server_side.put_nowait(writer), "127.0.0.1", 0
    )
    port = server.sockets[0].getsockname()[1]
    loop = asyncio.get_running_loop()
    try:
        reader, client = await asyncio.open_connection("127.0.0.1", port)
        writer = await server_side.get()

        def schedule(count: int) -> Schedule:
            built = Schedule()
            for index in range(count):
                built.add(loop.time() + 0.02 * (index + 1), b"c%d" % index)
            return built.seal()

        send = asyncio.create_task(pool.send(writer.transport, schedule(100)))
        await asyncio.wait_for(reader.read(100), 5)  # the worker is writing
        pool._workers[0].process.kill()
        with pytest.raises(StreamWorkerLost):
            await asyncio.wait_for(send, 5)
        assert pool.workers_alive == 0
        # The next stream is paced in this process instead.
        with contextlib.suppress(TimeoutError):  # whatever the worker had sent
            await asyncio.wait_for(reader.read(65536), 0.2)
        await asyncio.wait_for(pool.send(writer.transport, schedule(3)), 5)
        raw = await asyncio.wait_for(reader.read(65536), 5)
        assert raw.endswith(b"2\r\nc2\r\n")
        client.close()
        writer.close()
    finally:
        server.close()
        await pool.stop()


async def test_a_worker_that_will_not_start_is_a_clear_error(tmp_path: Path) -> None:
    broken = tmp_path / "python"
    broken.write_text("#!/bin/sh\necho 'no such module' >&2\nexit 3\n")
    broken.chmod(0o755)
    pool = PacerPool(2, python=str(broken))
    with pytest.raises(RuntimeError, match=r"exited before it was ready \(exit code 3"):
        await pool.start()
    assert pool.workers_alive == 0


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []


def _gone(pid: int, within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return True
        if state == "Z":  # exited, waiting for its parent (init) to reap it
            return True
        time.sleep(0.05)
    return False


SERVE = [
    sys.executable,
    "-c",
    "from gaplab.provider.cli import provider_group; provider_group()",
    "serve",
    "--port",
    "0",
    "--json",
    "--stream-workers",
]


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads /proc")
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL])
def test_serve_with_workers_streams_and_leaves_no_process_behind(stop: signal.Signals) -> None:
    process = subprocess.Popen([*SERVE, "2"], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        addresses = json.loads(process.stdout.readline())
        assert addresses["stream_workers"] == 2
        workers = _children(process.pid)
        assert len(workers) == 2
        sdk = openai.OpenAI(base_url=addresses["openai_base_url"], api_key="k", max_retries=0)
        stream = sdk.chat.completions.create(
            model="gpt-4o-mini",
            messages=QUESTION,  # type: ignore[arg-type]
            stream=True,
            max_tokens=30,
        )
        text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
        assert "deploy" in text.lower() or "roll" in text.lower()
        health = httpx.get(f"{addresses['control_url']}/health", timeout=10).json()
        assert health["stream_workers"] == 2 and health["stream_chunks"] > 0
    finally:
        process.send_signal(stop)
        code = process.wait(timeout=20)
    assert code == (0 if stop == signal.SIGTERM else -signal.SIGKILL)
    # Stopped, the provider closes its workers' channels; killed, the kernel does.
    assert all(_gone(pid) for pid in workers), "a stream worker outlived the provider"


def test_serve_rejects_a_bad_worker_count() -> None:
    result = subprocess.run([*SERVE, "many"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "'many' is not a number of workers" in result.stderr


def test_the_worker_entry_point_checks_its_argument() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "gaplab.provider.pacer_worker"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "usage:" in result.stderr


async def test_a_stream_a_worker_cannot_read_is_paced_by_the_provider(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_job_file = pacer_pool.job_file

    def short_file(schedule: Schedule) -> tuple[int, int]:
        fd, size = real_job_file(schedule)
        return fd, size + 100  # the worker finds less than announced and refuses the job

    monkeypatch.setattr(pacer_pool, "job_file", short_file)
    pool = PacerPool(1)
    await pool.start()
    server_side: asyncio.Queue[asyncio.StreamWriter] = asyncio.Queue()
    server = await asyncio.start_server(
        lambda _, writer: server_side.put_nowait(writer), "127.0.0.1", 0
    )
    loop = asyncio.get_running_loop()
    try:
        reader, client = await asyncio.open_connection(
            "127.0.0.1", server.sockets[0].getsockname()[1]
        )
        writer = await server_side.get()
        schedule = Schedule()
        for index in range(3):
            schedule.add(loop.time() + 0.01 * index, b"c%d" % index)
        await asyncio.wait_for(pool.send(writer.transport, schedule.seal()), 5)
        raw = b""
        while not raw.endswith(b"c2\r\n"):
            raw += await asyncio.wait_for(reader.read(65536), 5)
        assert raw == b"2\r\nc0\r\n2\r\nc1\r\n2\r\nc2\r\n"
        assert pool.workers_alive == 1  # refused, not broken
        assert pool.chunks_sent == 3  # all counted, all by the provider's own pacer
        client.close()
        writer.close()
    finally:
        server.close()
        await pool.stop()


async def test_descriptor_bundles_pair_with_frames_even_when_one_is_cut_short() -> None:
    loop = asyncio.get_running_loop()
    left, right = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    frames: list[tuple[int, bytes]] = []
    got = asyncio.Event()

    def on_frame(kind: int, payload: bytes) -> None:
        frames.append((kind, payload))
        if len(frames) == 3:
            got.set()

    sender = pacer_pool.Channel(loop, left, lambda *_: None, lambda: None)
    receiver = pacer_pool.Channel(loop, right, on_frame, lambda: None)
    reader, writer = os.pipe()
    try:
        sender.send(pacer_pool.JOB, b"first", fds=(os.dup(reader), os.dup(writer)))
        # More descriptors than a read makes room for: the kernel drops them (MSG_CTRUNC).
        sender.send(pacer_pool.JOB, b"too many", fds=tuple(os.dup(reader) for _ in range(40)))
        sender.send(pacer_pool.JOB, b"third", fds=(os.dup(writer), os.dup(reader)))
        await asyncio.wait_for(got.wait(), 5)
        bundles = list(receiver.fds)
        assert [payload for _, payload in frames] == [b"first", b"too many", b"third"]
        assert [None if b is None else len(b) for b in bundles] == [2, None, 2]
        first, third = bundles[0], bundles[2]
        assert first is not None and third is not None
        # The third frame's descriptors are its own: writer end first, then reader end.
        os.write(third[0], b"ok")
        assert os.read(reader, 2) == b"ok"
    finally:
        sender.close()
        receiver.close()  # closes the bundles never claimed
        os.close(reader)
        os.close(writer)
