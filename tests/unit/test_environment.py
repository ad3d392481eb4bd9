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
