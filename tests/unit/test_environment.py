"""The training data is deterministic: its expected fingerprint needs no cluster, and the CQL file
students load in lab 05 holds exactly the generated new rows."""

from dselab import environment
from shipped_content import shipped_lab


def test_base_data_has_12000_rows_and_a_stable_fingerprint():
    fp = environment.expected_fingerprint()
    assert fp["customers"].rows + fp["orders"].rows == 12_000
    # Recorded from a real 5.0 cluster after loading: the generators and the cluster agree.
    assert fp["customers"].checksum == "3941aeb6046d5acd8ec8572c9c60e349d623afdc552bc0da23ee95ef2c4d416b"
    assert fp["orders"].checksum == "9a5536ff1947831847004cff50308b843cbdb528b68e254b68f9625e40ebf724"


def test_new_rows_change_the_fingerprint():
    base, more = environment.expected_fingerprint(), environment.expected_fingerprint(with_new_rows=True)
    assert more["customers"].rows == base["customers"].rows + environment.NEW_CUSTOMERS
    assert more["orders"].checksum != base["orders"].checksum


def test_committed_cql_file_matches_the_generator():
    committed = (shipped_lab("05").root / "data" / "new-rows.cql").read_text()
    assert committed == environment.new_rows_cql()


def _unbatched(start: int, count: int) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    """The rows the load's batches write, split back per table in batch_cql's order."""
    customers, orders = [], []
    width_c, width_o = len(environment.COLUMNS["customers"]), len(environment.COLUMNS["orders"])
    for size, values in environment.customer_batches(start, count):
        assert environment.batch_cql(size).count("?") == len(values)
        at = 0
        for _ in range(size):
            customers.append(tuple(values[at:at + width_c]))
            at += width_c
            for _ in range(environment.ORDERS_PER_CUSTOMER):
                orders.append(tuple(values[at:at + width_o]))
                at += width_o
    return customers, orders


def test_batched_load_writes_exactly_the_generated_rows():
    customers, orders = _unbatched(0, environment.CUSTOMERS)
    assert customers == list(environment.customer_rows())
    assert orders == list(environment.order_rows())
    assert environment.digest_rows(customers) == environment.expected_fingerprint()["customers"]


def test_a_short_last_batch_keeps_every_row():
    customers, orders = _unbatched(4000, 13)  # 10 + 3
    assert [c[0] for c in customers] == list(range(4000, 4013))
    assert len(orders) == 13 * environment.ORDERS_PER_CUSTOMER


def test_a_batch_stays_under_cassandras_warning_thresholds():
    # unlogged_batch_across_partitions_warn_threshold: 10 partitions (one per customer)
    assert environment.BATCH_CUSTOMERS <= 10
    sql = environment.batch_cql(environment.BATCH_CUSTOMERS)
    assert sql.startswith("BEGIN UNLOGGED BATCH") and sql.endswith("APPLY BATCH")


class TablesRuntime:
    """A cluster's training tables as CQL sees them: SELECT, TRUNCATE, batched INSERTs."""

    def __init__(self, customers: list[tuple[object, ...]], orders: list[tuple[object, ...]]) -> None:
        self.tables = {"customers": list(customers), "orders": list(orders)}
        self.truncated: list[str] = []

    def cql(self, statement: str, params=None, node=None, consistency=None) -> list[dict[str, object]]:
        table = statement.split("training.")[1].split()[0].rstrip(";")
        if statement.startswith("TRUNCATE"):
            self.truncated.append(table)
            self.tables[table] = []
            return []
        return [dict(zip(environment.COLUMNS[table], row, strict=True)) for row in self.tables[table]]

    def cql_many(self, statement: str, rows, node=None) -> int:
        width_c, width_o = len(environment.COLUMNS["customers"]), len(environment.COLUMNS["orders"])
        for values in rows:
            at = 0
            while at < len(values):
                self.tables["customers"].append(tuple(values[at:at + width_c]))
                at += width_c
                for _ in range(environment.ORDERS_PER_CUSTOMER):
                    self.tables["orders"].append(tuple(values[at:at + width_o]))
                    at += width_o
        return len(rows)


def test_a_lab_that_starts_from_the_environment_gets_its_rows_back_after_lab_05():
    """Lab 05 leaves 50 more customers (its new rows) and restored tables: `write_again` truncates
    both tables and loads the environment's rows; on tables that hold them already it writes nothing."""
    count = environment.CUSTOMERS + environment.NEW_CUSTOMERS
    after_05 = TablesRuntime(list(environment.customer_rows(0, count)), list(environment.order_rows(0, count)))
    assert environment.write_again(after_05) is True  # type: ignore[arg-type]
    assert after_05.truncated == ["customers", "orders"]
    assert environment.fingerprint(after_05) == environment.expected_fingerprint()  # type: ignore[arg-type]

    fresh = TablesRuntime(list(environment.customer_rows()), list(environment.order_rows()))
    assert environment.write_again(fresh) is False and fresh.truncated == []  # type: ignore[arg-type]
