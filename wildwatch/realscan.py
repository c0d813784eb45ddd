"""The keyword lists on real wording: every text of a folder of saved pages matched, its hits compared with the
reviewed ones (`keywords/eval/realdata.csv`), per language."""
from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from wildwatch import matching, realtext

LABEL_COLUMNS = ("source", "text_key", "label", "group", "note")
# The detector tells Chinese varieties apart by vocabulary; the keyword lists have one Chinese.
SAME_LANGUAGE = {"yue": "zh", "wuu": "zh"}


class LabelsError(ValueError):
    """A reviewed-texts file that cannot be used: the message names the file, the line and the problem."""


@dataclass(frozen=True)
class Review:
    source: str
    text_key: str
    label: int  # 1: an offer (or a cover) an analyst must see; 0: not
    group: str
    note: str  # what the text is and where a term it led to was added


def read_reviews(path: Path) -> dict[tuple[str, str], Review]:
    try:
        with path.open(encoding="utf-8", newline="") as f:
            reader = csv.DictReader(f)
            missing = [c for c in LABEL_COLUMNS if c not in (reader.fieldnames or ())]
            if missing:
                raise LabelsError(f"{path}: missing column(s) {', '.join(missing)}")
            reviews = {}
            for line, row in enumerate(reader, start=2):
                if row["label"] not in ("0", "1"):
                    raise LabelsError(f"{path}, line {line}: label must be 0 or 1, not {row['label']!r}")
                review = Review(row["source"], row["text_key"], int(row["label"]), row["group"] or "",
                                row["note"] or "")
                if (review.source, review.text_key) in reviews:
                    raise LabelsError(f"{path}, line {line}: {review.source} {review.text_key} reviewed twice")
                reviews[(review.source, review.text_key)] = review
            return reviews
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise LabelsError(f"{path}: {exc}") from None


def _page_language(found: list[realtext.RealText]) -> str:
    """The language of a page's text, among all the detector knows: the crawl's detector chooses among the
    marketplace languages only, and would call a Hebrew or Croatian page Swahili."""
    import py3langid

    text = " ".join(t.text for t in found[:400])[:20000]
    found = py3langid.classify(text)[0] if text else "?"
    return SAME_LANGUAGE.get(found, found)


def scan(matcher: matching.Matcher, folder: Path, reviews: dict[tuple[str, str], Review],
         threshold: float, pages: list[Path] | None = None) -> dict:
    """Counts per page language (texts, flagged, reviewed offers found and missed, false alarms, unreviewed) and the
    texts behind them. A reviewed offer counts as missed when its score is under the threshold."""
    per_language: dict[str, Counter] = {}
    flagged_unreviewed, false_alarms, missed, found_offers = [], [], [], []
    seen_reviews, skipped = set(), []
    pages = realtext.pages(folder) if pages is None else pages
    for page in pages:
        try:
            found = list(realtext.texts(page, folder))
        except realtext.PageError as exc:
            skipped.append({"source": page.relative_to(folder).as_posix(), "reason": str(exc)})
            continue
        lang = _page_language(found)
        for item in found:
            counts = per_language.setdefault(lang, Counter())
            counts["texts"] += 1
            review = reviews.get((item.source, item.key))
            if review:
                seen_reviews.add((item.source, item.key))
            hits = matcher.match(item.text)
            if not hits and not review:
                continue
            score = matching.score(hits)
            row = {"source": item.source, "text_key": item.key, "language": lang, "score": round(score.value, 2),
                   "text": item.text, "reasons": score.reasons,
                   "groups": sorted({m.group for m in hits}), "note": review.note if review else ""}
            counts["matched"] += bool(hits)
            flagged = score.value >= threshold
            counts["flagged"] += flagged
            if review and review.label:
                counts["offers"] += 1
                counts["offers_found"] += flagged
                (found_offers if flagged else missed).append(row)
            elif flagged and review:
                counts["false_alarms"] += 1
                false_alarms.append(row)
            elif flagged:
                counts["unreviewed"] += 1
                flagged_unreviewed.append(row)
    scanned = {p.relative_to(folder).as_posix() for p in pages}
    stale = sorted(f"{s} {k}" for (s, k) in reviews if s in scanned and (s, k) not in seen_reviews)
    stale += sorted(f"{s} (no such page)" for s in {s for s, _ in reviews} - scanned if not (folder / s).is_file())
    total = Counter()
    for counts in per_language.values():
        total.update(counts)
    return {"folder": str(folder), "pages": len(pages), "threshold": threshold,
            "languages": {lang: dict(c) for lang, c in sorted(per_language.items(), key=lambda kv: -kv[1]["texts"])},
            "total": dict(total), "offers_found": found_offers, "offers_missed": missed,
            "false_alarms": false_alarms, "unreviewed": flagged_unreviewed, "stale_reviews": stale,
            "skipped_pages": skipped}
