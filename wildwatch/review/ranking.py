"""The ranker's view of one item for the item page: its score under the active model and what pushed it."""
from __future__ import annotations

import functools
import logging

log = logging.getLogger(__name__)


@functools.lru_cache(maxsize=1)
def _matcher():
    from wildwatch.ranker import registry

    return registry.matcher_for()


def explain_ranking(conn, row: dict, top: int = 6, groups: dict[str, str] | None = None) -> dict | None:
    """{version, score, threshold, features: [{feature, weight}]} or None when no model is active."""
    from wildwatch.ranker import registry
    from wildwatch.ranker.features import prepare

    try:
        found = registry.active(conn)
    except ValueError as exc:  # a model whose bytes do not match their hash: say so, never crash the page
        log.error("ranker: %s", exc)
        return None
    if not found:
        return None
    version, ranker = found
    record = registry.to_record(row)
    prepare([record], _matcher())
    from wildwatch.ranker.features import describe

    features = [{**f, "feature": describe(f["feature"], groups)} for f in ranker.explain(record, top=top)]
    return {"version": version, "score": float(ranker.score([record])[0]), "threshold": ranker.threshold,
            "features": features}
