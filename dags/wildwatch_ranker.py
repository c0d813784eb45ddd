"""Airflow DAG: the monthly learning round of the ranker (champion vs challenger on a held-out month)."""
from wildwatch.ranker.dags import build_ranker_dag

dag = build_ranker_dag()
