"""Airflow DAG: nightly backup of the survey database and the evidence it names (wildwatch/backup.py)."""
from wildwatch.backup_dag import build_backup_dag

dag = build_backup_dag()
