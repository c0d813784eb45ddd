"""Models in PostgreSQL: training from the review decisions, saving, listing, activating (audited), loading the
active one, and re-scoring the pending queue with it."""
from __future__ import annotations

import datetime as dt
import logging

import numpy as np
from psycopg2.extras import Json, execute_values

from wildwatch import config, keywords, matching
from wildwatch.db import dict_cursor
from wildwatch.ranker import model as ranker_model
from wildwatch.ranker import scorer
from wildwatch.ranker.features import MAX_DESCRIPTION, Record, prepare
from wildwatch.review.audit import record as audit

log = logging.getLogger(__name__)
POSITIVE = ("confirmed",)
NEGATIVE = ("not_wildlife", "legal")  # see model.py: legal offers are not what the queue is for
LISTING_COLUMNS = """l.id AS listing_id, l.title, l.description, l.language, s.name AS site, s.country,
                     l.price, l.currency"""


class NotEnoughDecisions(RuntimeError):
    """Below the cold-start minimums: the keyword score keeps ordering the queue."""


class UnknownModel(LookupError):
    """No model has that version."""


def to_record(row: dict) -> Record:
    return Record(title=row["title"], description=row.get("description"), language=row.get("language"),
                  site=row.get("site"), country=row.get("country"),
                  price=float(row["price"]) if row.get("price") is not None else None, currency=row.get("currency"))


def decisions(conn, before: dt.datetime | None = None, since: dt.datetime | None = None) -> list[dict]:
    """The settled decision of every decided queue item (its last one), confirmed/not wildlife/legal only."""
    with dict_cursor(conn) as cur:
        cur.execute(f"""
            SELECT * FROM (
                SELECT DISTINCT ON (q.id) q.id AS queue_id, q.reason, d.decision, d.decided_at, {LISTING_COLUMNS}
                FROM review_queue q JOIN review_decisions d ON d.queue_id = q.id
                JOIN listings l ON l.id = q.listing_id JOIN sites s ON s.id = l.site_id
                WHERE q.status = 'decided' AND d.decision <> 'unsure'
                ORDER BY q.id, d.id DESC) last
            WHERE (%(before)s::timestamptz IS NULL OR decided_at < %(before)s)
              AND (%(since)s::timestamptz IS NULL OR decided_at >= %(since)s)
            ORDER BY decided_at, queue_id""", {"before": before, "since": since})
        return cur.fetchall()


def undecided(conn, limit: int = ranker_model.MAX_UNLABELLED) -> list[Record]:
    """The most recent stored listings no analyst has decided, as bare records (title and description: the
    topics read text only, so they need no keyword matching)."""
    with dict_cursor(conn) as cur:
        cur.execute("""SELECT l.title, left(l.description, %s) AS description FROM listings l
                       WHERE NOT EXISTS (SELECT 1 FROM review_decisions d WHERE d.listing_id = l.id)
                       ORDER BY l.id DESC LIMIT %s""", (MAX_DESCRIPTION, limit))
        return [Record(title=r["title"] or "", description=r["description"]) for r in cur.fetchall()]


def train_decided(conn, records: list[Record], labels, settings: config.Settings) -> ranker_model.Ranker:
    """The production training: the decisions, plus the undecided listings as topics (README, "How well it
    learns")."""
    return ranker_model.train(records, labels, recall_target=settings.ranker_recall_target,
                              unlabelled=undecided(conn), use=ranker_model.PRODUCTION_USE)


def labelled(rows: list[dict], matcher: matching.Matcher) -> tuple[list[Record], np.ndarray]:
    records = [to_record(r) for r in rows]
    prepare(records, matcher)
    return records, np.array([1 if r["decision"] in POSITIVE else 0 for r in rows], dtype=int)


def check_enough(labels: np.ndarray, settings: config.Settings) -> None:
    pos, neg = int(labels.sum()), int(len(labels) - labels.sum())
    if len(labels) < settings.ranker_min_decisions or min(pos, neg) < settings.ranker_min_per_class:
        raise NotEnoughDecisions(
            f"{len(labels)} decisions ({pos} confirmed, {neg} not wildlife or legal): a model needs at least "
            f"{settings.ranker_min_decisions}, with {settings.ranker_min_per_class} of each class "
            "(WILDWATCH_RANKER_MIN_DECISIONS, WILDWATCH_RANKER_MIN_PER_CLASS); the keyword score orders the queue")


def matcher_for(settings: config.Settings | None = None) -> matching.Matcher:
    return matching.Matcher(keywords.load((settings or config.load()).keywords_dir))


def train_from_decisions(conn, before: dt.datetime | None = None, settings=None, matcher=None):
    """(ranker, rows used). Raises NotEnoughDecisions below the cold-start minimums."""
    settings = settings or config.load()
    rows = decisions(conn, before=before)
    records, labels = labelled(rows, matcher or matcher_for(settings))
    check_enough(labels, settings)
    return train_decided(conn, records, labels, settings), rows


def save(conn, ranker: ranker_model.Ranker, rows: list[dict], user: str, cutoff: dt.datetime | None = None,
         evaluation: dict | None = None) -> dict:
    blob = ranker.dumps()
    digest = scorer.sha256(blob)
    positives = sum(1 for r in rows if r["decision"] in POSITIVE)
    evaluation = {"cross_validation": ranker.info.get("cross_validation", {}), **(evaluation or {})}
    if ranker.info.get("topics"):
        evaluation["topics"] = {"topics": ranker.info["topics"], "undecided": ranker.info["unlabelled"]}
    returning = """version, sha256, trained_at, trained_by, cutoff, positives, negatives, last_decision_at, threshold,
                   evaluation, active, activated_at"""
    last_decision = max((r["decided_at"] for r in rows if r.get("decided_at")), default=None)
    with dict_cursor(conn) as cur:
        # Content-addressed: the same decisions and undecided listings train the same bytes, the same version.
        cur.execute(f"""INSERT INTO ranker_models (sha256, model, trained_by, cutoff, positives, negatives,
                                                   last_decision_at, threshold, evaluation)
                        VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)
                        ON CONFLICT (sha256) DO NOTHING RETURNING {returning}""",
                    (digest, blob, user, cutoff, positives, len(rows) - positives,
                     last_decision, ranker.threshold, Json(evaluation)))
        row = cur.fetchone()
        if row is None:
            cur.execute(f"SELECT {returning} FROM ranker_models WHERE sha256 = %s", (digest,))
            row = dict(cur.fetchone(), unchanged=True)
            log.info("ranker: the model trained is identical to version %s", row["version"])
            return row
    audit(conn, user, "ranker_train", "ranker_model", row["version"], None,
          {"sha256": digest, "positives": positives, "negatives": len(rows) - positives, "cutoff": cutoff,
           "threshold": ranker.threshold, "evaluation": evaluation})
    return dict(row)


def record_round(conn, version: int, evaluation: dict) -> None:
    """A later evaluation of an existing model (a round whose challenger came out identical to it)."""
    with conn.cursor() as cur:
        cur.execute("""UPDATE ranker_models SET evaluation = evaluation || jsonb_build_object('latest_round', %s::jsonb)
                       WHERE version = %s""", (Json(evaluation), version))


def train_and_save(conn, user: str, activate: bool = False) -> dict:
    ranker, rows = train_from_decisions(conn)
    with conn:
        saved = save(conn, ranker, rows, user)
    if activate:
        saved.update(globals()["activate"](conn, saved["version"], user, ranker=ranker))
        saved["active"] = True
    return saved


def list_models(conn) -> list[dict]:
    with dict_cursor(conn) as cur:
        cur.execute("""SELECT version, sha256, trained_at, trained_by, cutoff, positives, negatives, last_decision_at,
                              threshold, evaluation, active, activated_at, octet_length(model) AS bytes
                       FROM ranker_models ORDER BY version DESC""")
        return [dict(r) for r in cur.fetchall()]


def load(conn, version: int) -> ranker_model.Ranker:
    blob = scorer.stored(conn, version)
    if blob is None:
        raise UnknownModel(f"no ranker model version {version}")
    return ranker_model.Ranker.loads(blob)


_cache: dict[tuple[int, str], ranker_model.Ranker] = {}


def active(conn) -> tuple[int, ranker_model.Ranker] | None:
    """The active model (cached per process by version and hash), or None: the keyword score orders the queue."""
    return scorer.cached_active(conn, _cache, ranker_model.Ranker.loads)


def activate(conn, version: int, user: str, ranker: ranker_model.Ranker | None = None) -> dict:
    """Make `version` the active model (audited) and re-score the pending queue with it."""
    with conn:
        with conn.cursor() as cur:
            cur.execute("SELECT version FROM ranker_models WHERE version = %s FOR UPDATE", (version,))
            if cur.fetchone() is None:
                raise UnknownModel(f"no ranker model version {version}")
            cur.execute("SELECT version FROM ranker_models WHERE active FOR UPDATE")
            previous = cur.fetchone()
            cur.execute("UPDATE ranker_models SET active = false WHERE active AND version <> %s", (version,))
            cur.execute("UPDATE ranker_models SET active = true, activated_at = now() WHERE version = %s", (version,))
        audit(conn, user, "ranker_activate", "ranker_model", version,
              {"active": previous[0] if previous else None}, {"active": version})
    ranker = ranker or load(conn, version)
    with conn:
        rescored = rescore_pending(conn, version, ranker)
    log.info("ranker model %s active (was %s); %d pending items re-scored", version,
             previous[0] if previous else "none", rescored)
    return {"rescored": rescored, "previous": previous[0] if previous else None}


def rescore_pending(conn, version: int, ranker: ranker_model.Ranker, matcher=None, batch: int = 2000) -> int:
    """Score every pending item with the model and make that its priority: one UPDATE ... FROM VALUES per batch,
    so running it twice gives the same rows."""
    with dict_cursor(conn) as cur:
        cur.execute(f"""SELECT q.id AS queue_id, {LISTING_COLUMNS} FROM review_queue q
                        JOIN listings l ON l.id = q.listing_id JOIN sites s ON s.id = l.site_id
                        WHERE q.status IN ('pending', 'second_review') ORDER BY q.id""")
        rows = cur.fetchall()
    matcher = matcher or matcher_for()
    for start in range(0, len(rows), batch):
        chunk = rows[start:start + batch]
        records = [to_record(r) for r in chunk]
        prepare(records, matcher)
        scores = ranker.score(records)
        values = [(r["queue_id"], r["listing_id"], float(s), version) for r, s in zip(chunk, scores, strict=True)]
        with conn.cursor() as cur:
            execute_values(cur, """UPDATE review_queue q SET priority = v.score
                                   FROM (VALUES %s) AS v(qid, lid, score, version) WHERE q.id = v.qid""", values)
            execute_values(cur, """UPDATE listings l SET rank_score = v.score, rank_model = v.version
                                   FROM (VALUES %s) AS v(qid, lid, score, version) WHERE l.id = v.lid""", values)
    return len(rows)


def describe(row: dict) -> str:
    cv = (row.get("evaluation") or {}).get("cross_validation") or {}
    holdout = (row.get("evaluation") or {}).get("holdout") or {}
    figures = ""
    if cv.get("ranker"):
        figures += (f"  cv AP {cv['ranker']['average_precision']:.3f} (keywords {cv['keyword']['average_precision']:.3f})"
                    f" P@R90 {cv['ranker']['precision_at_recall_90']:.3f}")
    if holdout.get("challenger"):
        figures += f"  hold-out {holdout.get('month')}: AP {holdout['challenger']['average_precision']:.3f}"
    choice = cv.get("choice")
    if choice and choice.get("too_few"):
        few = choice["too_few"]
        figures += (f"\n      order: keywords ({few['positive']} confirmed / {few['negative']} not: too few of one "
                    "kind to show out of fold that a learnt order beats the keyword lists')")
    elif choice:
        why = {"keywords": "the learnt order did not beat the keyword lists' surely enough out of fold: the queue keeps "
                           "the keyword order",
               "blend": "the model with the keyword score as a prior",
               "model": "the model alone: the keyword score added nothing out of fold"}[choice["order"]]
        sure = f", better on {choice['confidence']:.0%} of resamples" if "confidence" in choice else ""
        figures += (f"\n      order: {choice['order']} (cross-validated AP: learnt {choice['model_ap']:.3f}, keywords "
                    f"{choice['keyword_ap']:.3f}{sure}): {why}")
        if choice.get("text_model") and choice["order"] != "keywords":
            source = {True: "the text and the keyword matches", False: "the text alone (the keyword matches ranked "
                      "worse out of fold as features; the keyword score only as the prior)"}
            figures += f"\n      learnt from {source[choice.get('keyword_facts', True)]} by {choice['text_model']}"
            topics = (row.get("evaluation") or {}).get("topics")
            if topics:
                figures += (f", with {topics['topics']} topics of the words of {topics['undecided']:,} undecided "
                            "listings")
    trained = row["trained_at"].strftime("%Y-%m-%d %H:%M") if hasattr(row["trained_at"], "strftime") else row["trained_at"]
    return (f"v{row['version']:<4d} {'ACTIVE' if row['active'] else '      '}  trained {trained} by {row['trained_by']}"
            f"  decisions {row['positives']} confirmed / {row['negatives']} not  threshold {row['threshold']:.3f}"
            f"  sha256 {row['sha256'][:12]}{figures}")
