"""The monthly learning round (DAG `wildwatch_ranker`): train a challenger, compare it with the champion on
decisions neither trained on, activate it only when it is better.

Time split: the hold-out is the most recent calendar month with decisions; the challenger trains on every
decision before that month (its cut-off). The rule (also in the README):
- against a champion: the challenger's average precision on the hold-out month must beat the champion's by
  MIN_GAIN (0.01: no churn for noise) and be no worse than the keyword order's (within TIE, 0.005);
- with no champion yet: no worse than the keyword order (within TIE) on the hold-out month, or, when no
  earlier month holds enough decisions to train on (the first month of reviewing), in cross-validation on
  all decisions. A first model that orders as well as the keywords is worth having: it also learns from
  every further decision and queues offers the keyword threshold misses.
Either way the challenger and its figures are stored in `ranker_models` and written to the task log.
"""
from __future__ import annotations

import datetime as dt
import logging

from wildwatch import config
from wildwatch.ranker import metrics, registry
from wildwatch.ranker.features import keyword_prior

log = logging.getLogger(__name__)
MIN_GAIN = config.number("WILDWATCH_RANKER_MIN_GAIN", "0.01", float)
TIE = 0.005
MIN_HOLDOUT_PER_CLASS = 5


def _month_start(t: dt.datetime) -> dt.datetime:
    return t.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def champion_challenger(conn, user: str = "airflow", settings: config.Settings | None = None) -> dict:
    settings = settings or config.load()
    matcher = registry.matcher_for(settings)
    rows = registry.decisions(conn)
    records, labels = registry.labelled(rows, matcher)
    try:
        registry.check_enough(labels, settings)
    except registry.NotEnoughDecisions as exc:
        log.info("ranker: %s", exc)
        return {"outcome": "cold start", "reason": str(exc)}
    champion = registry.active(conn)
    cutoff = _month_start(rows[-1]["decided_at"])
    before = [i for i, r in enumerate(rows) if r["decided_at"] < cutoff]
    after = [i for i, r in enumerate(rows) if r["decided_at"] >= cutoff]
    y_before, y_after = labels[before], labels[after]
    time_split = True
    try:
        registry.check_enough(y_before, settings)
        if min(int(y_after.sum()), int(len(y_after) - y_after.sum())) < MIN_HOLDOUT_PER_CLASS:
            raise registry.NotEnoughDecisions("hold-out month has too few decisions of one class")
    except registry.NotEnoughDecisions as exc:
        log.info("ranker: no time split (%s): training on all %d decisions", exc, len(rows))
        time_split = False
    if time_split:
        challenger = registry.train_decided(conn, [records[i] for i in before], y_before, settings)
        held = [records[i] for i in after]
        holdout = {"month": f"{cutoff:%Y-%m}", "decisions": len(after),
                   "challenger": metrics.figures(y_after, challenger.score(held)),
                   "keyword": metrics.figures(y_after, keyword_prior(held))}
        ap, keyword_ap = holdout["challenger"]["average_precision"], holdout["keyword"]["average_precision"]
        better = ap >= keyword_ap - TIE
        rule = f"hold-out AP {ap:.3f} vs keyword order {keyword_ap:.3f} (within {TIE})"
        if champion:
            holdout["champion"] = {"version": champion[0], **metrics.figures(y_after, champion[1].score(held))}
            champion_ap = holdout["champion"]["average_precision"]
            better = better and ap >= champion_ap + MIN_GAIN
            rule += f" and vs champion v{champion[0]} {champion_ap:.3f} + {MIN_GAIN}"
        used = [rows[i] for i in before]
        evaluation = {"holdout": holdout, "rule": rule, "champion": champion[0] if champion else None}
    else:
        challenger = registry.train_decided(conn, records, labels, settings)
        cv = challenger.info["cross_validation"]
        better = bool(cv) and champion is None and \
            cv["ranker"]["average_precision"] >= cv["keyword"]["average_precision"] - TIE
        rule = ("cross-validated AP {:.3f} vs keyword order {:.3f} (within {})".format(
                    cv["ranker"]["average_precision"], cv["keyword"]["average_precision"], TIE)
                if cv else "no cross-validation possible") + ("" if champion is None else
                                                              f"; champion v{champion[0]} kept without a hold-out")
        used, cutoff = rows, None
        evaluation = {"rule": rule, "champion": champion[0] if champion else None}
    if challenger.info.get("order") == "keywords":
        # Its cross-validation kept the keyword order: activating it would change nothing but the label.
        better = False
        evaluation["rule"] += "; the challenger keeps the keyword order (it did not beat it out of fold)"
    evaluation["activated"] = bool(better)
    with conn:
        saved = registry.save(conn, challenger, used, user, cutoff=cutoff, evaluation=evaluation)
        if saved.get("unchanged"):
            # The same decisions trained the same bytes (often: the champion itself). Keep this round's figures.
            better = better and not saved["active"]
            evaluation["activated"] = bool(better)
            registry.record_round(conn, saved["version"], evaluation)
    log.info("ranker: challenger v%s: %s -> %s", saved["version"], rule, "ACTIVATED" if better else "champion kept")
    log.info("ranker: %s", registry.describe(saved))
    result = {"outcome": "activated" if better else "kept champion", "version": saved["version"],
              "champion": champion[0] if champion else None, "evaluation": evaluation}
    if better:
        result.update(registry.activate(conn, saved["version"], user, ranker=challenger))
    return result
