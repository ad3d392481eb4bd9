"""CQL through the DataStax Python driver, pinned to one node (no load balancing surprises)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from dselab.errors import ClusterDown, EnvironmentProblem

logging.getLogger("cassandra").setLevel(logging.CRITICAL)


def connect(address: str, port: int, timeout: float = 20, protocol_version: int | None = None) -> Any:
    """A session on one node; the protocol version is negotiated unless given (DSE 5.1 speaks v4)."""
    from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile, NoHostAvailable
    from cassandra.policies import WhiteListRoundRobinPolicy

    profile = ExecutionProfile(load_balancing_policy=WhiteListRoundRobinPolicy([address]), request_timeout=60)
    # No schema or token metadata: dselab reads neither, and fetching them was most of a connect
    # (0.04-0.09 s -> 0.015 s), paid by every command and Check that opens a session. A DDL statement
    # still waits for schema agreement (the driver does that before its metadata refresh).
    cluster = Cluster(
        [address], port=port, execution_profiles={EXEC_PROFILE_DEFAULT: profile},
        connect_timeout=timeout, control_connection_timeout=timeout,
        schema_metadata_enabled=False, token_metadata_enabled=False,
        **({"protocol_version": protocol_version} if protocol_version else {}),
    )
    try:
        session = cluster.connect()
    except (NoHostAvailable, OSError):
        cluster.shutdown()
        raise ClusterDown(f"no CQL answer from {address}:{port}",
                          fix="is the cluster up? try `dselab status`") from None
    return session


def _errors() -> tuple[type[BaseException], ...]:
    from cassandra import DriverException
    from cassandra.cluster import NoHostAvailable

    return (DriverException, NoHostAvailable, OSError)


def execute(session: Any, statement: str, params: Sequence[Any] | None, where: str,
            consistency: str | None = None) -> list[dict[str, Any]]:
    from cassandra import ConsistencyLevel
    from cassandra.query import SimpleStatement

    level = getattr(ConsistencyLevel, consistency or "ONE")
    # One page for each lab table (8,100 rows at most): every page at ALL is a round of every replica.
    stmt = SimpleStatement(statement, consistency_level=level, fetch_size=20000)
    try:
        rows = session.execute(stmt, params)
        return [dict(row._asdict()) for row in rows] if rows is not None else []
    except _errors() as err:
        raise EnvironmentProblem(f"CQL on {where} failed: {err}") from None


# A bulk load at consistency ALL on a busy machine (a node's 2 cores shared with others) can see a
# replica miss the write timeout. The load's inserts are idempotent (same keys, same values), so the
# statements that timed out are sent again, fewer at a time, before the load gives up.
MANY_IN_FLIGHT = 64
MANY_ROUNDS = 4


def execute_many(session: Any, statement: str, rows: Sequence[Sequence[Any]], where: str,
                 concurrency: int = MANY_IN_FLIGHT, rounds: int = MANY_ROUNDS) -> int:
    """Run one prepared (idempotent) statement for many rows, `concurrency` in flight (fast bulk
    load); the rows written. Statements that time out are tried again, a quarter as many at a time."""
    from cassandra import ConsistencyLevel, OperationTimedOut, WriteTimeout
    from cassandra.concurrent import execute_concurrent_with_args

    try:
        prepared = session.prepare(statement)
    except _errors() as err:
        raise EnvironmentProblem(f"CQL on {where} failed: {err}") from None
    prepared.consistency_level = ConsistencyLevel.ALL
    pending, written = list(rows), 0
    for _ in range(rounds):
        results = execute_concurrent_with_args(session, prepared, pending, concurrency=concurrency,
                                               raise_on_first_error=False)
        failed = [(row, err) for row, (ok, err) in zip(pending, results, strict=True) if not ok]
        written += len(pending) - len(failed)
        other = [err for _, err in failed if not isinstance(err, (WriteTimeout, OperationTimedOut))]
        if other or not failed:
            if other:
                raise EnvironmentProblem(f"CQL on {where} failed: {other[0]}")
            return written
        pending, concurrency = [row for row, _ in failed], max(1, concurrency // 4)
    raise EnvironmentProblem(f"CQL on {where} failed: {len(pending)} writes still timed out after {rounds} tries "
                             f"({failed[0][1]})", fix="the machine may be too busy: stop other work and try again")
