"""Run only by test_cleanup.py in a nested pytest (the file name keeps it out of the suite): holds the session's
PostgreSQL until it is interrupted."""
import time


def test_holds_the_session_cluster(pg_cluster, database_url):
    print("READY", flush=True)
    time.sleep(120)
