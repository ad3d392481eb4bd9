"""Checks of the example lab: each reads the live cluster through the CheckContext."""

from __future__ import annotations

from dselab.check_engine import CheckContext, check

LAB = "90-example"  # the lab's folder name under labs/
KEYSPACE = "example_ks"
NOTES = 3


@check(LAB, "keyspace")
def keyspace_has_two_copies(ctx: CheckContext) -> None:
    rows = ctx.runtime.cql("SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = %s", [KEYSPACE])
    ctx.note(keyspace=KEYSPACE, replication=dict(rows[0]["replication"]) if rows else None)
    if not rows:
        raise ctx.failed(f"no keyspace named {KEYSPACE}", hint="./scripts/cqlsh.sh -e \"CREATE KEYSPACE ...\"")
    factor = rows[0]["replication"].get("replication_factor")
    if factor != "2":
        raise ctx.failed(f"{KEYSPACE} keeps {factor or 'a per-datacenter number of'} copies, not 2",
                         hint=f"ALTER KEYSPACE {KEYSPACE} WITH replication = "
                              "{'class': 'SimpleStrategy', 'replication_factor': 2};")
    raise ctx.passed(f"{KEYSPACE} exists and keeps two copies of every row")


@check(LAB, "notes")
def notes_loaded(ctx: CheckContext) -> None:
    tables = ctx.runtime.cql("SELECT table_name FROM system_schema.tables WHERE keyspace_name = %s "
                             "AND table_name = 'notes'", [KEYSPACE])
    if not tables:
        raise ctx.failed(f"no table {KEYSPACE}.notes", hint="./scripts/cqlsh.sh < labs/90-example/data/notes.cql")
    count = len(ctx.runtime.cql(f"SELECT id FROM {KEYSPACE}.notes", consistency="ALL"))
    ctx.note(table=f"{KEYSPACE}.notes", rows=count)
    if count != NOTES:
        raise ctx.failed(f"{KEYSPACE}.notes holds {count} rows, not {NOTES}",
                         hint="load the file again: ./scripts/cqlsh.sh < labs/90-example/data/notes.cql")
    raise ctx.passed(f"{KEYSPACE}.notes holds its {NOTES} rows")
