"""Builds the survey DAGs. Nothing here touches the database or the network at import time: the one thing
read is the site files (their names, and whether each is enabled), which gives each site its own crawl task
(mapped over the site's keyword shards) and its own pool."""
from __future__ import annotations

import datetime as dt

from airflow.sdk import DAG, TaskGroup, get_current_context, task

from wildwatch import config, shards, sites


def _default_args() -> dict:
    """Retries are off on one machine (a failure is a finding); on a cluster a task lost with its worker is
    retried elsewhere: WILDWATCH_TASK_RETRIES (make cluster and docker-compose set 2)."""

    return {"owner": "wildwatch", "retries": config.number("WILDWATCH_TASK_RETRIES", "0"),
            "retry_delay": dt.timedelta(seconds=config.number("WILDWATCH_RETRY_DELAY_S", "30"))}


DEFAULT_ARGS = _default_args()


def _smtp_notifier(to: list[str]):
    import os

    from airflow.providers.smtp.notifications.smtp import SmtpNotifier

    return SmtpNotifier(
        to=to, from_email=os.environ.get("WILDWATCH_ALERT_FROM", "wildwatch@localhost"),
        smtp_conn_id="wildwatch_smtp",
        subject="wildwatch: {{ ti.task_id }} failed in {{ dag.dag_id }} ({{ run_id }})",
        html_content="<p>{{ ti.task_id }} [{{ ti.map_index }}] of {{ dag.dag_id }}, run {{ run_id }}, failed:</p>"
                     "<pre>{{ exception }}</pre>")


def failure_notifiers() -> list:
    """Ops get an e-mail for every failed task when WILDWATCH_ALERT_EMAIL is set (off by default); the mail
    goes through the Airflow connection `wildwatch_smtp`. Reads the environment only: no network here."""
    import os

    to = [a.strip() for a in os.environ.get("WILDWATCH_ALERT_EMAIL", "").split(",") if a.strip()]
    if not to:
        return []

    def mail_ops(context) -> None:
        # A fresh notifier per failure: SmtpNotifier caches its hook, whose closed connection a second
        # failure in the same process (several tasks under `airflow dags test`) would reuse and lose.
        _smtp_notifier(to)(context)

    return [mail_ops]


def default_args(retries: bool = True) -> dict:
    """Task defaults of every wildwatch DAG: the retry policy above (or none) and the ops e-mail."""
    args = dict(DEFAULT_ARGS) if retries else {**DEFAULT_ARGS, "retries": 0}
    notifiers = failure_notifiers()
    if notifiers:
        args["on_failure_callback"] = notifiers
    return args


def survey_schedule(cron: str | None):
    """A survey's timetable. Switching a DAG on (the UI's "unpause on trigger" too) must not start a run for a
    month already begun: that run would come before the one asked for. Without a start date and with
    run_immediately off, the first scheduled run is the next cron time; later ones follow on from it."""
    if cron is None:
        return None, dt.datetime(2026, 1, 1)
    from airflow.timetables.trigger import CronTriggerTimetable

    return CronTriggerTimetable(cron, timezone="UTC", run_immediately=False), None


def build_survey_dag(dag_id: str, *, schedule, kind: str, description: str, params: dict | None = None,
                     tags=("wildwatch",)) -> DAG:
    schedule, start_date = survey_schedule(schedule)
    with DAG(dag_id=dag_id, schedule=schedule, start_date=start_date, catchup=False,
             max_active_runs=1, default_args=default_args(), description=description, tags=list(tags),
             params=params or {}, doc_md=__doc__) as dag:

        @task
        def start_run() -> int:
            from wildwatch import survey

            ctx = get_current_context()
            logical = ctx.get("logical_date") or ctx["dag_run"].run_after
            return survey.start_run(ctx["run_id"], kind, logical.date(), dict(ctx["params"]))

        @task
        def plan(survey_run_id: int, site: str) -> list[dict]:
            from wildwatch import survey

            return survey.plan_site(survey_run_id, site, dict(get_current_context()["params"]))

        @task(map_index_template="{{ shard_label }}")
        def crawl(target: dict) -> dict:
            from wildwatch import survey

            get_current_context()["shard_label"] = survey.shard_label(target)
            return survey.crawl_shard(target)

        @task(trigger_rule="all_done")
        def summarize(survey_run_id: int, plan_tasks: list[str]) -> dict:
            from wildwatch import survey

            # A site whose plan failed has no crawl record: ask Airflow, or the run would look complete.
            ctx = get_current_context()
            states = ctx["ti"].get_task_states(dag_id=ctx["dag"].dag_id, run_ids=[ctx["run_id"]],
                                               task_ids=plan_tasks).get(ctx["run_id"], {})
            unplanned = [t.split(".")[0] for t, state in states.items() if state in ("failed", "upstream_failed")]
            return survey.summarize(survey_run_id, unplanned)

        # Airflow reserves the name run_id: ours is the crawl_runs row id.
        survey_run_id = start_run()
        # Per site: a plan (its keyword shards; none when this survey leaves the site out, and its crawl shows
        # as skipped) and a crawl mapped over the shards, in the site's pool, which caps how many shards run
        # at once across all workers and runs (slots = the site file's concurrency; see `wildwatch pools`).
        # The monthly survey crawls the enabled sites only, so those are all it shows (and starts a plan task
        # for); a one-off survey may name any site file, enabled or not.
        names = sites.switched_on() if kind == "monthly" else sorted(sites.site_files())
        crawled, plan_tasks = [], []
        for name in names:
            with TaskGroup(name, tooltip=f"{name}: plan, then one crawl per keyword shard"):
                shards_planned = plan.override(task_id="plan")(survey_run_id, name)
                plan_tasks.append(shards_planned.operator.task_id)
                crawled.append(crawl.override(task_id="crawl", pool=shards.pool_name(name))
                               .expand(target=shards_planned))
        summary = summarize(survey_run_id, plan_tasks)
        crawled >> summary

        # Seller networks over everything stored, this run's listings included (whatever single sites did).
        @task(trigger_rule="all_done")
        def link_sellers() -> dict:
            from wildwatch import survey

            return survey.link_sellers()

        # Text written on the candidates' photos: contacts painted over the product link sellers too.
        @task(trigger_rule="all_done")
        def read_photos(survey_run_id: int) -> dict:
            from wildwatch import survey

            return survey.read_photos(survey_run_id)

        linked = link_sellers()
        summary >> read_photos(survey_run_id) >> linked

        # Runs last, whatever happened: a partial survey ends red in the Airflow UI and its run list, after the
        # report and everything else that works on partial data has run.
        @task(trigger_rule="all_done", retries=0)
        def verdict(survey_run_id: int) -> str:
            from wildwatch import survey

            return survey.verdict(survey_run_id)

        last = linked

        if kind == "monthly":
            # The month's report, whatever happened to single sites: their failures are in it.
            @task(trigger_rule="all_done")
            def write_report(survey_run_id: int) -> str:
                from wildwatch import survey

                return survey.write_report(survey_run_id)

            # The blind audit sample of listings this run did not queue: what the filter misses, estimated.
            @task(trigger_rule="all_done")
            def audit_sample(survey_run_id: int) -> dict:
                from wildwatch import survey

                return survey.audit_sample(survey_run_id)

            last = write_report(survey_run_id)
            linked >> audit_sample(survey_run_id) >> last
        last >> verdict(survey_run_id)
    return dag
