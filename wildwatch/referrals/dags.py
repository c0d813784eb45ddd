"""The referral DAG (assemble the month's packages, wait for a supervisor's approval in Airflow) and the
weekly takedown follow-up DAG. Nothing here touches the database or the network at import time."""
from __future__ import annotations

import datetime as dt

from airflow.providers.standard.operators.hitl import ApprovalOperator
from airflow.sdk import DAG, Param, get_current_context, task

from wildwatch.dagfactory import default_args

# No retries: a retried approval task would ask the supervisor a second time. Failures mail ops.
DEFAULT_ARGS = default_args(retries=False)


def build_referrals_dag(dag_id: str = "wildwatch_referrals") -> DAG:
    with DAG(dag_id=dag_id, schedule="0 6 25 * *", start_date=dt.datetime(2026, 1, 1), catchup=False,
             max_active_runs=1, default_args=DEFAULT_ARGS, tags=["wildwatch", "referrals"],
             description="Assemble the month's referral packages to platforms; a supervisor approves them",
             params={"month": Param("", type="string", description="survey month YYYY-MM (default: this month)")},
             doc_md=__doc__) as dag:

        @task
        def assemble() -> list[dict]:
            from wildwatch.referrals import assemble as assembling, tasks

            ctx = get_current_context()
            month = tasks.month_of(dict(ctx["params"]), ctx.get("logical_date") or ctx["dag_run"].run_after)
            return assembling.assemble_month(month, user="airflow", dag_run_id=ctx["run_id"])

        @task.short_circuit
        def anything_to_approve(packages: list[dict]) -> bool:
            return bool(packages)

        @task
        def describe(packages: list[dict]) -> str:
            from wildwatch.referrals import tasks

            return tasks.approval_body(packages)

        packages = assemble()
        body = describe(packages)
        approval = ApprovalOperator(
            task_id="supervisor_approval",
            subject="Referral packages ready for review",
            body="{{ ti.xcom_pull(task_ids='describe') }}",
        )

        @task
        def mark_ready(packages: list[dict]) -> list[dict]:
            from wildwatch.referrals import assemble as assembling

            return assembling.decide([p["id"] for p in packages], True, _responder())

        # Runs on approval and on rejection (mark_ready is skipped then): a rejection is recorded, the
        # packages stay drafts.
        @task(trigger_rule="none_failed")
        def record_outcome(packages: list[dict]) -> str:
            from wildwatch.referrals import assemble as assembling

            chosen = _chosen()
            if chosen != "Approve":
                assembling.decide([p["id"] for p in packages], False, _responder())
            return chosen or "none"

        ready = mark_ready(packages)
        anything_to_approve(packages) >> body >> approval >> ready >> record_outcome(packages)
    return dag


def _hitl_result() -> dict:
    ctx = get_current_context()
    return ctx["ti"].xcom_pull(task_ids="supervisor_approval") or {}


def _chosen() -> str | None:
    options = _hitl_result().get("chosen_options") or []
    return options[0] if options else None


def _responder() -> str:
    by = _hitl_result().get("responded_by_user") or {}
    name = by.get("name") if isinstance(by, dict) else None
    return f"airflow:{name}" if name else "airflow"


def build_followup_dag(dag_id: str = "wildwatch_takedown_followup") -> DAG:
    with DAG(dag_id=dag_id, schedule="@weekly", start_date=dt.datetime(2026, 1, 1), catchup=False,
             max_active_runs=1, default_args=DEFAULT_ARGS, tags=["wildwatch", "referrals"],
             description="Revisit referred listings; removal rates and time to removal per platform",
             doc_md=__doc__) as dag:

        @task
        def check_listings() -> dict:
            from wildwatch.referrals import tasks

            return tasks.check_referred_listings()

        @task
        def removal_rates(checked: dict) -> list[dict]:
            from wildwatch.referrals import tasks

            return tasks.removal_stats()

        removal_rates(check_listings())
    return dag
