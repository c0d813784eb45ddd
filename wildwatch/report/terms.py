"""Suggested new search terms: words and phrases far more common in confirmed offers than in the other
listings analysts decided on, and not already in the keyword lists. For an analyst to review; nothing is
ever added automatically.

Scored by the log-odds ratio with an informative Dirichlet prior (Monroe, Colaresi & Quinn 2008), on document
frequencies, so one listing repeating a word does not make it a term."""
from __future__ import annotations

import math
import re
from collections import Counter

from wildwatch.matching import fold

STOPWORDS = set("""
a an and are as at be by for from has have in is it its of on or the this to with new used good very
le la les de des du un une et en pour avec sur est au aux
và của có cho các là một những này được với bán mới rất
na ya wa za kwa la ni cha vya kwenye hii
""".split())
WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)
CJK_RUN = re.compile(r"[\u3400-\u9fff]+")


def features(text: str) -> set[str]:
    """Words, word pairs and (for Chinese) character pairs of the folded text, once each."""
    folded = fold(text or "")
    out: set[str] = set()
    for run in CJK_RUN.findall(folded):
        out.update(run[i:i + 2] for i in range(len(run) - 1))
    words = [w for w in WORD.findall(CJK_RUN.sub(" ", folded)) if w not in STOPWORDS]
    out.update(words)
    out.update(f"{a} {b}" for a, b in zip(words, words[1:], strict=False))
    return out


def _known(term: str, known: set[str], known_words: set[str]) -> bool:
    if term in known or any(k in term for k in known if len(k) >= 2):
        return True
    return all(part in known_words for part in term.split())


def suggest(confirmed_texts: list[str], other_texts: list[str], known_terms: list[str], limit: int = 25,
            min_docs: int = 3, min_z: float = 2.33) -> list[dict]:
    known = {fold(t) for t in known_terms if t.strip()}
    known_words = {w for k in known for w in k.split()}
    conf = Counter(f for t in confirmed_texts for f in features(t))
    other = Counter(f for t in other_texts for f in features(t))
    n_c, n_o = max(len(confirmed_texts), 1), max(len(other_texts), 1)
    total = conf + other
    n_all = n_c + n_o
    alpha0 = 10.0  # the prior's weight: strong enough that a term seen in 3 of 3000 listings means little
    out = []
    for term, in_conf in conf.items():
        if in_conf < min_docs or _known(term, known, known_words):
            continue
        in_other = other.get(term, 0)
        prior = alpha0 * total[term] / n_all
        # A term in every listing leaves nothing on the "without" side: half a count keeps the odds finite.
        l_c = math.log((in_conf + prior) / max(n_c + alpha0 - in_conf - prior, 0.5))
        l_o = math.log((in_other + prior) / max(n_o + alpha0 - in_other - prior, 0.5))
        z = (l_c - l_o) / math.sqrt(1 / (in_conf + prior) + 1 / (in_other + prior))
        if z >= min_z:
            out.append({"term": term, "confirmed_listings": in_conf, "other_listings": in_other, "z": round(z, 2)})
    out.sort(key=lambda r: (-r["z"], r["term"]))
    # A phrase and its own words say the same thing: keep the strongest of the two.
    kept: list[dict] = []
    for row in out:
        if any(row["term"] in k["term"].split() or k["term"] in row["term"].split() for k in kept):
            continue
        kept.append(row)
        if len(kept) == limit:
            break
    return kept
