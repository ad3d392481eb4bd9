"""Lab 05c on a real cluster: the restores of `orders` its check must refuse, and the ones it passes.

One cluster walks the lab: steps 1-2 by their reference solutions (each checked), then `orders` is
restored as a student might, typed through the scripts: on top of the migration (no TRUNCATE; with
Cassandra 5.0's `nodetool import --copy-data` from the snapshot, since a copy into the table folder
would meet the live files the snapshot links), on dse-seed only (the module's 3.11 client: copy,
`nodetool refresh`), then on the other nodes too (import), which passes. Then `customers` is
restored as well (a whole-keyspace restore loses the sign-ups) and its sign-ups typed in again
(new write times): both refused. It starts where lab 05 leaves the tables (its new rows in them):
`dselab start 05c` writes the environment's rows again. `dselab test 05c`, in `make test`, proves
the page's own restore."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conftest import Student, reset_lab

from dselab import environment, nodetool_choice, service
from dselab.catalogue import get_lab
from dselab.check_helpers import one_table
from dselab.check_helpers.table_rows import inserts
from dselab.runtime.base import LAB_NODES

pytestmark = pytest.mark.integration
COPY = "./scripts/node-exec.sh {node} sh -c 'cp training/{table}-*/snapshots/nightly/??-* training/{table}-*/'"
IMPORT = ("dir=$(./scripts/node-exec.sh {node} sh -c 'cd training/orders-*/snapshots/nightly && pwd') && "
          "./scripts/nodetool-node.sh {node} import --copy-data training orders \"$dir\"")


def verdict(ws: service.Workspace) -> tuple[str, str]:
    lab = get_lab("05c")
    result = service.check_one(ws, lab, lab.step("restore-orders"))
    return result.status, result.message


def typed(student: Student, command: str) -> None:
    code, out, err = student.run_status(command)
    assert code == 0, f"{command}: exit {code}\n{out}\n{err}"


def refresh(student: Student, nodes: tuple[str, ...], table: str = "orders") -> None:
    for node in nodes:
        typed(student, COPY.format(node=node, table=table))
        typed(student, f"./scripts/nodetool-node.sh {node} refresh training {table}")


@pytest.fixture
def day_two(lab_workspace: service.Workspace) -> Iterator[service.Workspace]:
    ws = lab_workspace
    new = environment.NEW_CUSTOMERS  # the tables as lab 05 leaves them: its new rows written too
    environment.insert_rows(ws.runtime, "customers", environment.customer_rows(environment.CUSTOMERS, new))
    service.start_lab(ws, "05c")  # lab.yaml `data: environment`: the environment's rows written again
    assert environment.fingerprint(ws.runtime) == environment.expected_fingerprint()
    run = service.solve(ws, get_lab("05c"), ["snapshot", "day-two"], check=True)
    assert run.ok, [r.message for r in run.checks]
    yield ws
    reset_lab(ws)


def test_the_restore_check_refuses_each_wrong_restore_and_passes_the_right_one(day_two: service.Workspace) -> None:
    ws, student = day_two, Student(day_two)
    legacy, native = Student(ws), Student(ws)
    legacy.settings = legacy.settings.replace(nodetool=nodetool_choice.LEGACY)
    native.settings = native.settings.replace(nodetool=nodetool_choice.NATIVE)

    for node in LAB_NODES:  # on top of the migration: its prices and tombstones are newer
        typed(native, IMPORT.format(node=node))
    status, message = verdict(ws)
    assert status == "fail" and "truncate orders before loading the snapshot" in message, message

    typed(student, './scripts/cqlsh.sh -e "TRUNCATE training.orders;"')
    refresh(legacy, LAB_NODES[:1])
    status, message = verdict(ws)  # the rows may all read at ALL, but two nodes hold none of them
    assert status == "fail" and message.startswith("dse-node-1 holds ~0 partitions of training.orders"), message
    assert "dse-node-2 holds ~0 partitions" in message

    for node in LAB_NODES[1:]:  # import checks each row belongs to the node: cleanup came before
        typed(native, IMPORT.format(node=node))
    status, message = verdict(ws)
    assert status == "pass", message

    typed(student, './scripts/cqlsh.sh -e "TRUNCATE training.customers;"')  # the whole keyspace, then
    refresh(legacy, LAB_NODES, "customers")
    status, message = verdict(ws)
    assert status == "fail" and "customer 7000: signed up on day two" in message, message

    statements = " ".join(inserts({"customers": one_table.signups()}))
    typed(student, f'./scripts/cqlsh.sh -e "{statements}"')  # typed in again: new write times
    status, message = verdict(ws)
    assert status == "fail" and "customers was restored or written again" in message, message
