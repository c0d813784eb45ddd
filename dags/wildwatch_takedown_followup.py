"""Airflow DAG: weekly revisit of referred listings; removal rates per platform."""
from wildwatch.referrals.dags import build_followup_dag

dag = build_followup_dag()
