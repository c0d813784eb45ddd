"""Airflow DAG: the month's referral packages to platforms, approved by a supervisor in Airflow."""
from wildwatch.referrals.dags import build_referrals_dag

dag = build_referrals_dag()
