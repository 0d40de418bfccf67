"""The `stream_guard` defence: a streamed answer either finishes or says it did not.

`guarded(chunks, stall_timeout)` passes the provider's chunks on and raises `StreamBroken`
(with a reason for the logs) when the stream

- ends without a `finish_reason` (cut, or a half-written last line: the SDK simply stops);
- carries a chunk that is not JSON (the SDK raises `ValueError`);
- carries an error event (the SDK raises `APIError`) or loses its connection;
- stalls: no chunk for `stall_timeout` seconds;
- goes on with content after its `finish_reason` (chunks out of order: what was sent
  before the finish cannot be trusted to be the whole answer).

The service then ends the user's stream with an explicit `event: error`, so nobody takes a
partial answer for a whole one. `unguarded(chunks)` is what a service without it does, the
naive relay: stop at the first `finish_reason`, and let the caller treat any exception as
the end of the stream.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator

import openai
from openai.types.chat import ChatCompletionChunk


class StreamBroken(Exception):
    """The upstream stream did not deliver a whole answer."""


async def guarded(
    chunks: AsyncIterable[ChatCompletionChunk], stall_timeout: float
) -> AsyncIterator[ChatCompletionChunk]:
    iterator = aiter(chunks)
    finished = False
    while True:
        try:
            async with asyncio.timeout(stall_timeout):
                chunk = await anext(iterator)
        except StopAsyncIteration:
            if not finished:
                raise StreamBroken("the stream ended before the answer was finished") from None
            return
        except TimeoutError:
            raise StreamBroken(f"the stream stalled: no data for {stall_timeout:g}s") from None
        except openai.APIConnectionError:
            raise StreamBroken("the connection to the provider broke mid-stream") from None
        except openai.APIError:
            raise StreamBroken("the provider sent an error mid-stream") from None
        except ValueError:
            raise StreamBroken("the provider sent a malformed chunk") from None
        for choice in chunk.choices:
            if finished and (choice.delta.content or choice.delta.refusal):
                raise StreamBroken("content arrived after the end of the answer (out of order)")
            if choice.finish_reason:
                finished = True
        yield chunk


async def unguarded(
    chunks: AsyncIterable[ChatCompletionChunk],
) -> AsyncIterator[ChatCompletionChunk]:
    async for chunk in chunks:
        yield chunk
        if any(choice.finish_reason for choice in chunk.choices):
            return  # "the model said it is done"
