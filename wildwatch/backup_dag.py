"""The DAG `wildwatch_backup`: every night at 02:30 UTC, the database and the evidence it names to
WILDWATCH_BACKUP_TO (a folder or s3://bucket/prefix), keeping the newest WILDWATCH_BACKUP_KEEP (default 14).
Evidence is write-once, so each night copies only the day's new objects. Nothing happens at import time."""
from __future__ import annotations

import datetime as dt

from airflow.sdk import DAG, task

from wildwatch.dagfactory import default_args


def build_backup_dag(dag_id: str = "wildwatch_backup") -> DAG:
    with DAG(dag_id=dag_id, schedule="30 2 * * *", start_date=dt.datetime(2026, 1, 1), catchup=False,
             max_active_runs=1, default_args=default_args(retries=True), tags=["wildwatch", "backup"],
             description="Back up the survey database and its evidence; keep the newest N backups",
             doc_md=__doc__) as dag:

        @task
        def back_up() -> dict:
            from airflow.sdk.exceptions import AirflowSkipException

            from wildwatch import backup, config, db
            from wildwatch.evidence.store import open_store

            settings = config.load()
            if not settings.backup_to:
                raise AirflowSkipException("WILDWATCH_BACKUP_TO is not set: no backup taken")
            done = backup.backup(db.ready(settings), open_store(settings.evidence_store), settings.backup_to)
            pruned = backup.prune(settings.backup_to, settings.backup_keep)
            return {"backup": done.name, "objects": done.objects, "copied": done.copied,
                    "bytes_copied": done.bytes_copied, "dump_bytes": done.dump_bytes, "pruned": pruned}

        back_up()
    return dag
