"""The bulk load's writes: a write that times out on a busy machine is sent again, fewer at a time;
any other failure, or timeouts that last, is one clear error."""

from __future__ import annotations

from typing import Any

import cassandra.concurrent
import pytest
from cassandra import ConsistencyLevel, InvalidRequest, OperationTimedOut, WriteTimeout, WriteType

from dselab.cql import execute_many
from dselab.errors import EnvironmentProblem

TIMEOUT = WriteTimeout("Coordinator node timed out waiting for replica nodes' responses",
                       consistency=ConsistencyLevel.ALL, required_responses=2, received_responses=1,
                       write_type=WriteType.UNLOGGED_BATCH)  # as the docker stand-in answered a busy load


class Session:
    def prepare(self, statement: str) -> Any:
        return type("Prepared", (), {"consistency_level": None})()


def scripted(monkeypatch: pytest.MonkeyPatch, failing: list[set[int]], error: Exception) -> list[tuple[int, int]]:
    """Round i fails the rows (by value) in failing[i] with `error`; the (rows, concurrency) of each round."""
    rounds: list[tuple[int, int]] = []

    def run(session: Any, prepared: Any, rows: list[tuple[int]], concurrency: int,
            raise_on_first_error: bool) -> list[tuple[bool, Any]]:
        assert not raise_on_first_error
        bad = failing[len(rounds)] if len(rounds) < len(failing) else set()
        rounds.append((len(rows), concurrency))
        return [(False, error) if row[0] in bad else (True, None) for row in rows]

    monkeypatch.setattr(cassandra.concurrent, "execute_concurrent_with_args", run)
    return rounds


def test_timed_out_writes_are_sent_again_fewer_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    rounds = scripted(monkeypatch, [{1, 2, 3}, {2}], TIMEOUT)
    assert execute_many(Session(), "INSERT", [(i,) for i in range(10)], where="dse-seed") == 10
    assert rounds == [(10, 64), (3, 16), (1, 4)]


def test_timeouts_that_last_are_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    scripted(monkeypatch, [{1}] * 3 + [{1}], OperationTimedOut("client timed out"))
    with pytest.raises(EnvironmentProblem, match="1 writes still timed out after 4 tries"):
        execute_many(Session(), "INSERT", [(i,) for i in range(3)], where="dse-seed")


def test_any_other_failure_is_not_tried_again(monkeypatch: pytest.MonkeyPatch) -> None:
    rounds = scripted(monkeypatch, [{0}], InvalidRequest("unknown table"))
    with pytest.raises(EnvironmentProblem, match="CQL on dse-seed failed: .*unknown table"):
        execute_many(Session(), "INSERT", [(i,) for i in range(3)], where="dse-seed")
    assert len(rounds) == 1
