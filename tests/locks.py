"""For concurrency tests on PostgreSQL: wait, inside a transaction, until another connection waits for a lock."""

import time


def wait_until_someone_waits_for_a_lock(cursor, *, seconds: float = 10.0) -> bool:
    """True once a connection to this database waits for a lock; False after `seconds`."""
    for _attempt in range(int(seconds / 0.05)):
        # Inside a transaction the statistics views are a snapshot taken at their first read.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        if cursor.fetchone()[0]:
            return True
        time.sleep(0.05)
    return False
