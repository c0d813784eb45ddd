"""How many of the items handed to analysts are chosen for what the ranker learns most from (active picks), as
the decisions grow. With few decisions the model orders the queue barely better than the keywords, so a queue
item decided in its order teaches it little and an item it is unsure of (before any model, one drawn at random)
teaches it much; with many, the model is good and the queue's top is what analysts should see. So: most picks
are active at first, falling linearly to the floor (WILDWATCH_RANKER_ACTIVE_SHARE) at `young` decisions
(WILDWATCH_RANKER_ACTIVE_YOUNG). A floor of 0 turns active picks off altogether."""
from __future__ import annotations


def active_share(floor: float, young: int, decisions: int) -> float:
    if floor <= 0:
        return 0.0
    if young <= 0:
        return floor
    return max(floor, 1.0 - decisions / young)
