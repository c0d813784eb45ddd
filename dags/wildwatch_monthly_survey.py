"""Airflow DAG: monthly survey of every enabled marketplace with every keyword list."""
from wildwatch.dagfactory import build_survey_dag

dag = build_survey_dag(
    "wildwatch_monthly_survey",
    schedule="@monthly",
    kind="monthly",
    description="Monthly wildlife-trade survey of every enabled marketplace",
)
