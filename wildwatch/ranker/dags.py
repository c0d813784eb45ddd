"""The DAG `wildwatch_ranker`: monthly (the 20th, after the month's review window; or by hand) train a
challenger, evaluate it against the champion on a month neither trained on, activate it only if better."""
from __future__ import annotations

import datetime as dt

from airflow.sdk import DAG, get_current_context, task

from wildwatch.dagfactory import default_args


def build_ranker_dag(dag_id: str = "wildwatch_ranker") -> DAG:
    with DAG(dag_id=dag_id, schedule="0 4 20 * *", start_date=dt.datetime(2026, 1, 1), catchup=False,
             max_active_runs=1, default_args=default_args(retries=False), tags=["wildwatch", "ranker"],
             description="Learn from the month's review decisions: champion vs challenger, activate if better",
             doc_md=__doc__) as dag:

        @task
        def champion_challenger() -> dict:
            from wildwatch import db
            from wildwatch.ranker import loop

            conn = db.connect(db.ready())
            try:
                result = loop.champion_challenger(conn, user=f"airflow:{get_current_context()['run_id']}")
            finally:
                conn.close()
            if result["outcome"] == "cold start":
                # Nothing trained: the run must not look like a round that learnt something.
                from airflow.sdk.exceptions import AirflowSkipException

                raise AirflowSkipException(f"no model trained: {result['reason']}")
            return {k: v for k, v in result.items() if k != "evaluation"} | {
                "rule": result.get("evaluation", {}).get("rule"), "reason": result.get("reason")}

        champion_challenger()
    return dag
