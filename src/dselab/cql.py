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
    cluster = Cluster(
        [address], port=port, execution_profiles={EXEC_PROFILE_DEFAULT: profile},
        connect_timeout=timeout, control_connection_timeout=timeout,
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
    stmt = SimpleStatement(statement, consistency_level=level, fetch_size=5000)
    try:
        rows = session.execute(stmt, params)
        return [dict(row._asdict()) for row in rows] if rows is not None else []
    except _errors() as err:
        raise EnvironmentProblem(f"CQL on {where} failed: {err}") from None


def execute_many(session: Any, statement: str, rows: Sequence[Sequence[Any]], where: str) -> int:
    """Run one prepared statement for many rows, 64 in flight (fast bulk load)."""
    from cassandra import ConsistencyLevel
    from cassandra.concurrent import execute_concurrent_with_args

    try:
        prepared = session.prepare(statement)
        prepared.consistency_level = ConsistencyLevel.ALL
        results = execute_concurrent_with_args(session, prepared, rows, concurrency=64,
                                               raise_on_first_error=True)
    except _errors() as err:
        raise EnvironmentProblem(f"CQL on {where} failed: {err}") from None
    return sum(1 for ok, _ in results if ok)
