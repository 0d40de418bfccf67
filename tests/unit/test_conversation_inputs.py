"""Conversation inputs: sessions of N consecutive turns, each naming its own reference first
and its case after, so a resent history still joins each call to the turn that caused it;
and the greedy user's declaration."""

from __future__ import annotations

import pytest

from gaplab.engine.events import UserRequestFinished
from gaplab.engine.join import Join
from gaplab.errors import InputError
from gaplab.load.inputs import InputMix, references_in
from gaplab.provider.journal import ProviderCall
from gaplab.scenario.library import load_scenario
from gaplab.scenario.load_models import LoadSpec


def mix(turns: int = 6, **kinds: object) -> InputMix:
    spec = LoadSpec.model_validate({"inputs": {"conversation": {"turns": turns}, **kinds}})
    return InputMix(spec.inputs, seed=9)


def test_a_session_is_consecutive_turns_with_one_id_and_fresh_references() -> None:
    stream = mix(turns=6).stream(4)
    inputs = [stream.next() for _ in range(18)]
    assert [i.turn for i in inputs] == [1, 2, 3, 4, 5, 6] * 3
    ids = [i.conversation for i in inputs]
    assert len(set(ids)) == 3 and all(ids[k] == ids[k - k % 6] for k in range(18))
    assert len({i.reference for i in inputs}) == 18  # every turn has its own reference
    for session in (inputs[0:6], inputs[6:12]):
        case = session[0].reference
        assert session[0].conversation == f"conv-{case.lower()}"
        assert references_in(session[0].text) == [case]
        for turn in session[1:]:  # its own reference first, then the session's case
            assert references_in(turn.text) == [turn.reference, case]


def test_the_same_seed_gives_the_same_sessions_and_a_mix_still_draws_other_kinds() -> None:
    one, two = mix(turns=3, questions=1).stream(1), mix(turns=3, questions=1).stream(1)
    assert [one.next().text for _ in range(20)] == [two.next().text for _ in range(20)]
    stream = mix(turns=3, questions=1).stream(2)
    kinds = [stream.next() for _ in range(60)]
    assert {i.kind for i in kinds} == {"conversation", "questions"}
    # A session, once drawn, is never interrupted by another kind.
    for index, given in enumerate(kinds):
        if given.turn == 1 and index + 3 <= len(kinds):
            assert [k.turn for k in kinds[index : index + 3]] == [1, 2, 3]


def _request(given_reference: str, request_id: str, turn: int) -> UserRequestFinished:
    return UserRequestFinished(
        t=1.0,
        request_id=request_id,
        user="user-0000",
        phase="p",
        started=0.5,
        latency=0.5,
        outcome="ok",
        status=200,
        input_kind="conversation",
        reference=given_reference,
        conversation="conv-x",
        turn=turn,
    )


def test_a_call_resending_the_history_joins_to_the_turn_in_its_last_message() -> None:
    stream = mix(turns=4).stream(0)
    turns = [stream.next() for _ in range(4)]
    requests = [_request(t.reference, f"r{t.turn}", t.turn) for t in turns]
    history: list[dict[str, str]] = []
    calls = []
    for given in turns:  # a naive target: every earlier turn, then the new message
        history = [*history, {"role": "user", "content": given.text}]
        calls.append(
            ProviderCall(
                call_id=f"c{given.turn}",
                dialect="openai",
                path="/v1/chat/completions",
                t_arrival=0.6,
                t_first_byte=0.7,
                t_end=0.8,
                status=200,
                outcome="completed",
                messages=tuple(history),
            )
        )
        history.append({"role": "assistant", "content": "Sure."})
    join = Join(requests, calls)
    assert [join.request_for(c).request_id for c in calls] == ["r1", "r2", "r3", "r4"]  # type: ignore[union-attr]
    assert join.by_content == 4


def test_greedy_phases_must_name_phases_of_the_scenario(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "g.yaml"
    path.write_text(
        "version: 1\nname: g\ntitle: g\nload: {users: 2, greedy: {sessions: 4, phases: [brust]}}\n"
        "phases: [{name: burst, for: 2s}]\n"
    )
    with pytest.raises(InputError) as info:
        load_scenario(str(path))
    assert "load.greedy.phases: no phase named 'brust'" in str(info.value)
    spec = LoadSpec.model_validate({"greedy": {}})
    assert spec.greedy is not None and (spec.greedy.sessions, spec.greedy.think) == (8, 0.05)
