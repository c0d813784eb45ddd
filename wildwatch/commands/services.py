"""Long-running services: `wildwatch review` (the analysts' app), `airflow` (UI, scheduler, DAG processor),
`cluster` (Redis, Airflow with Celery and N workers) and `pools` (one Airflow pool per site)."""
from __future__ import annotations

import json

from wildwatch import db
from wildwatch.commands import ensure_db


def cmd_review(args, settings) -> int:
    import uvicorn

    from wildwatch import ports
    from wildwatch.review import settings as review_settings
    from wildwatch.review.app import create_app

    # A bad setting is refused before anything starts: no database cluster for a server that cannot run.
    app_settings = review_settings.load()
    ensure_db(settings)
    conn = db.connect()
    try:
        db.migrate(conn)
    finally:
        conn.close()
    args.port = args.port or ports.claim("review", settings.var_dir)
    print(f"review app on http://{args.host}:{args.port}  (add users with `wildwatch users add NAME --role analyst`)")
    # Forwarded headers are handled by the app, from WILDWATCH_TRUSTED_PROXIES only (uvicorn would trust
    # 127.0.0.1 by default: any local process could then claim any address).
    if args.workers > 1:  # processes, each with its own app; sessions and throttling live in the database
        uvicorn.run("wildwatch.review.app:create_app", factory=True, workers=args.workers, host=args.host,
                    port=args.port, log_level="warning", proxy_headers=False)
    else:
        uvicorn.run(create_app(app_settings), host=args.host, port=args.port, log_level="warning", proxy_headers=False)
    return 0


def cmd_airflow(args, settings) -> int:
    from wildwatch import airflow_services

    if args.action == "test":
        return _dag_test(args, settings)
    if args.action == "start":
        return airflow_services.start(args.port)
    if args.action == "stop":
        return airflow_services.stop()
    return airflow_services.status()


def _dag_test(args, settings) -> int:
    import datetime as dt
    import re

    from wildwatch import dagtest
    from wildwatch.commands import fail

    if not args.dag:
        return fail("name the DAG: wildwatch airflow test DAG_ID")
    conf = None
    if args.conf:
        try:
            conf = json.loads(args.conf)
        except ValueError as exc:
            return fail(f"--conf is not JSON ({exc})")
        if not isinstance(conf, dict):
            return fail("--conf must be a JSON object of the run's parameters, e.g. '{\"countries\": [\"VN\"]}'")
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,250}", args.dag):
        return fail(f"not a DAG id: {args.dag[:60]!r}")
    ensure_db(settings)
    log = settings.var_dir / "log" / f"dag-{args.dag}-{dt.datetime.now():%Y%m%d-%H%M%S}.log"
    result = dagtest.run(args.dag, log, conf=conf)
    for task, state in result.states.items():
        print(f"{task:40s} {state}")
    print(f"run {result.run_id}: " + ("failed" if result.returncode or result.failed else
                                      "skipped (nothing to do)" if result.states and
                                      len(result.skipped) == len(result.states) else "succeeded") + f"; log {log}")
    return 1 if result.returncode or result.failed else 0


def cmd_cluster(args, settings) -> int:
    from wildwatch import cluster

    if args.action == "start":
        return cluster.start(args.port, args.workers)
    return cluster.stop() if args.action == "stop" else cluster.status()


def cmd_pools(args, settings) -> int:
    from wildwatch import pools

    if args.action == "show":
        print(json.dumps(pools.spec(), indent=2))
        return 0
    for name, pool in pools.sync().items():
        print(f"{name}: {pool['slots']} slot(s)")
    return 0


def register(sub) -> None:
    p = sub.add_parser("review", help="serve the analysts' review app")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0,
                   help="default: WILDWATCH_REVIEW_PORT, else 8700 when free, else a free one")
    p.add_argument("--workers", type=int, default=1, help="server processes (production: about one per core)")
    p.set_defaults(func=cmd_review)

    p = sub.add_parser("airflow", help="Airflow UI, scheduler and DAG processor on 127.0.0.1; or one DAG run here")
    p.add_argument("action", choices=["start", "stop", "status", "test"],
                   help="test DAG_ID: run the DAG once now, without a scheduler (airflow dags test), and print "
                        "each task's state")
    p.add_argument("dag", nargs="?", help="test: the DAG to run")
    p.add_argument("--conf", help="test: the run's parameters as JSON")
    p.add_argument("--port", type=int, default=0,
                   help="start: the UI/API port (default: WILDWATCH_AIRFLOW_PORT, else 8080 when free, else a free one)")
    p.set_defaults(func=cmd_airflow)

    p = sub.add_parser("cluster", help="Redis, Airflow with the CeleryExecutor and N workers, on 127.0.0.1")
    p.add_argument("action", choices=["start", "stop", "status"])
    p.add_argument("--port", type=int, default=0, help="the Airflow UI/API port (default as for `airflow start`)")
    p.add_argument("--workers", type=int, default=2)
    p.set_defaults(func=cmd_cluster)

    p = sub.add_parser("pools", help="one Airflow pool per site, slots = the site's concurrency")
    p.add_argument("action", choices=["sync", "show"], help="sync: create/update them in Airflow; show: print JSON")
    p.set_defaults(func=cmd_pools)
