"""Cleanup evidence is read from a node's own log: the 5.0 lines and the 3.11 ones."""

from dselab.checks.backup_restore import _last_cleanup

LOG_50 = """INFO  [RMI TCP Connection(14)-127.0.0.1] 2026-11-24 01:26:53,513 StorageService.java:4163 - Starting Cleanup on training.[]
INFO  [CompactionExecutor:2] 2026-11-24 01:26:53,617 CompactionManager.java:1492 - Cleaned up to /d/training/orders-09/nb-2-big-Data.db.  140.631KiB to 93.786KiB (~66% of original) for 2,668 keys.  Time: 102ms.
INFO  [RMI TCP Connection(14)-127.0.0.1] 2026-11-24 01:26:53,675 StorageService.java:4170 - Completed Cleanup with status SUCCESSFUL
"""

LOG_311 = """INFO  [CompactionExecutor:3] 2019-05-02 10:00:01,250 CompactionManager.java:1118 - Cleaning up SSTableReader(path='/var/lib/cassandra/data/training/orders-1/mc-6-big-Data.db')
INFO  [CompactionExecutor:3] 2019-05-02 10:00:02,500 CompactionManager.java:1190 - Cleaned up to /var/lib/cassandra/data/training/orders-1/mc-7-big-Data.db.  100 KiB to 66 KiB (~66% of original) for 2,000 keys.  Time: 50ms.
"""


def test_last_cleanup_time_from_50_log():
    assert _last_cleanup(LOG_50) == 1795483613.675


def test_last_cleanup_time_from_311_log():
    assert _last_cleanup(LOG_311) == 1556791202.5


def test_cleanup_of_other_keyspaces_only_is_no_evidence():
    other = LOG_50.replace("training", "system_auth")
    assert _last_cleanup(other) is None
    assert _last_cleanup("") is None
