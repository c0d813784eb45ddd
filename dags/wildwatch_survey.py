"""Airflow DAG: one-off survey (e.g. of one country), triggered by hand with params."""
from airflow.sdk import Param

from wildwatch.dagfactory import build_survey_dag

dag = build_survey_dag(
    "wildwatch_survey",
    schedule=None,
    kind="adhoc",
    description="One-off survey of selected countries, sites and product groups",
    params={
        "countries": Param([], type="array", items={"type": "string"},
                           description="ISO country codes, e.g. ['VN', 'TZ']; empty = all"),
        "sites": Param([], type="array", items={"type": "string"},
                       description="site names (files in sites/); empty = every enabled site"),
        "product_groups": Param([], type="array", items={"type": "string"},
                                description="keyword groups to search for, e.g. ['ivory']; empty = all"),
    },
)
