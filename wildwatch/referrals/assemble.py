"""The month's platform referrals, as the wildwatch_referrals DAG assembles them: one draft package per
platform with confirmed offers not yet referred to it."""
from __future__ import annotations

from wildwatch import config, db
from wildwatch.evidence.store import open_store
from wildwatch.referrals import build, package
from wildwatch.review import audit


def assemble_month(month: str, user: str = "airflow", dag_run_id: str | None = None) -> list[dict]:
    settings = config.load()
    store = open_store(settings.evidence_store)
    out = []
    with db.transaction() as conn:
        with conn.cursor() as cur:
            cur.execute("SELECT name FROM sites ORDER BY name")
            platforms = [r[0] for r in cur.fetchall()]
        for name in platforms:
            referral_id = build.create_or_refresh(conn, "platform", name, month, user, dag_run_id=dag_run_id)
            if referral_id is None:
                continue
            path, digest = package.build_package(conn, referral_id, store, settings.referrals_dir)
            ref = build.get(conn, referral_id)
            out.append({"id": referral_id, "recipient": name, "items": ref["n_items"], "sha256": digest,
                        "file": str(path)})
    return out


def decide(referral_ids: list[int], approved: bool, user: str) -> list[dict]:
    """An approval approves every package of the run; a rejection leaves (or puts) them back in draft."""
    done = []
    with db.transaction() as conn:
        for referral_id in referral_ids:
            current = build.get(conn, referral_id)
            if approved and current["status"] == "draft":
                done.append({"id": referral_id, **build.set_status(conn, referral_id, "approved", user)})
            elif not approved and current["status"] == "approved":
                done.append({"id": referral_id, **build.set_status(conn, referral_id, "draft", user)})
            else:
                if not approved:
                    audit.record(conn, user, "referral_rejected", "referral", referral_id, None,
                                 {"status": current["status"]})
                done.append({"id": referral_id, "status": current["status"]})
    return done
