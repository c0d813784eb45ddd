"""Keyword matching and scoring of listing text.

Text is folded once (compatibility forms, case, diacritics) while remembering where each folded
character came from, so a match always reports its span in the original text for highlighting.
"""
from __future__ import annotations

import unicodedata

import ahocorasick
from dataclasses import dataclass, field

from wildwatch.keywords import KeywordBase, Term

# Weights per kind of term; a listing is queued when its score reaches the configured threshold.
KIND_WEIGHT = {"product": 3.0, "species": 3.0, "code_word": 2.0, "disguise": 2.0}
FIELD_FACTOR = {"title": 1.0, "description": 0.7}
INNOCENT_WINDOW = 30  # characters around a hit in which an innocent context weakens it
NEARBY_INNOCENT_FACTOR = 0.3


def fold_with_map(text: str) -> tuple[str, list[int]]:
    """Folded text (compatibility forms, case, diacritics, runs of whitespace) and, for each folded
    character, the index of the original character it came from."""
    out: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        if ch.isspace():
            if out and out[-1] != " ":
                out.append(" ")
                origin.append(i)
            continue
        for c in unicodedata.normalize("NFKD", ch):
            if unicodedata.combining(c):
                continue
            for f in c.casefold().replace("đ", "d"):
                out.append(f)
                origin.append(i)
    return "".join(out), origin


def fold(text: str) -> str:
    return fold_with_map(text)[0].strip()


def _is_cjk(text: str) -> bool:
    return any("\u3400" <= c <= "\u9fff" for c in text)


def _is_word_char(c: str) -> bool:
    return c.isalnum()


@dataclass(frozen=True)
class Match:
    term: str
    group: str
    kind: str
    language: str
    field: str
    start: int  # span in the original text of the field
    end: int
    text: str
    innocent: str | None = None  # the innocent context that overlaps or sits near this hit
    overlaps_innocent: bool = False


@dataclass
class Score:
    value: float
    reasons: list[str] = field(default_factory=list)


class _Automaton:
    """Aho-Corasick over folded terms: one pass finds every occurrence, overlapping ones included; a
    hit lying wholly inside a longer hit is dropped afterwards ("ivory" inside "mammoth ivory")."""

    def __init__(self, terms: list[Term]):
        by_folded: dict[str, list[Term]] = {}
        for t in terms:
            key = fold(t.term)
            if key:
                by_folded.setdefault(key, []).append(t)
        self.automaton = ahocorasick.Automaton()
        for key, group in by_folded.items():
            self.automaton.add_word(key, (key, tuple(group), not _is_cjk(key)))
        self.empty = not by_folded
        if not self.empty:
            self.automaton.make_automaton()

    def find(self, folded: str):
        if self.empty:
            return []
        found = []
        for end_index, (key, terms, needs_boundary) in self.automaton.iter(folded):
            start, end = end_index - len(key) + 1, end_index + 1
            if needs_boundary and ((start > 0 and _is_word_char(folded[start - 1]))
                                   or (end < len(folded) and _is_word_char(folded[end]))):
                continue
            found.append((start, end, terms))
        if len(found) < 2:
            return found
        found.sort(key=lambda f: (f[0], -f[1]))
        kept, reach = [], -1
        for f in found:  # sorted by start, longest first: contained hits end within an earlier reach
            if f[1] <= reach and not (kept and kept[-1][0] == f[0] and kept[-1][1] == f[1]):
                continue
            kept.append(f)
            reach = max(reach, f[1])
        return kept


class Matcher:
    def __init__(self, kb: KeywordBase):
        self.kb = kb
        self._terms = _Automaton([t for t in kb.terms if t.kind != "innocent"])
        self._innocent = _Automaton([t for t in kb.terms if t.kind == "innocent"])

    def match(self, text: str | None, field_name: str = "title") -> list[Match]:
        if not text:
            return []
        folded, origin = fold_with_map(text)

        def span(start, end):
            return origin[start], origin[end - 1] + 1

        innocent = [(s, e, terms) for s, e, terms in self._innocent.find(folded)]
        matches = []
        for start, end, terms in self._terms.find(folded):
            o_start, o_end = span(start, end)
            for term in terms:
                context, overlaps = None, False
                for i_start, i_end, i_terms in innocent:
                    same_group = [t for t in i_terms if t.group == term.group]
                    if not same_group:
                        continue
                    if i_start < end and start < i_end:
                        context, overlaps = same_group[0].term, True
                        break
                    if i_start - INNOCENT_WINDOW <= end and start <= i_end + INNOCENT_WINDOW:
                        context = same_group[0].term
                matches.append(Match(term=term.term, group=term.group, kind=term.kind, language=term.language,
                                     field=field_name, start=o_start, end=o_end, text=text[o_start:o_end],
                                     innocent=context, overlaps_innocent=overlaps))
        return matches

    def match_listing(self, title: str | None, description: str | None) -> list[Match]:
        return self.match(title, "title") + self.match(description, "description")


def score(matches: list[Match]) -> Score:
    """Best weight per (group, term), summed; each contribution explained in one line."""
    best: dict[tuple[str, str], tuple[float, str]] = {}
    for m in matches:
        weight = KIND_WEIGHT[m.kind] * FIELD_FACTOR[m.field]
        why = f"{m.kind} '{m.term}' ({m.group}) in {m.field}"
        if m.overlaps_innocent:
            weight, why = 0.0, why + f", inside innocent context '{m.innocent}'"
        elif m.innocent:
            weight, why = weight * NEARBY_INNOCENT_FACTOR, why + f", near innocent context '{m.innocent}'"
        if m.kind == "disguise":
            why += " [disguise: flag for review]"
        key = (m.group, m.term)
        if key not in best or weight > best[key][0]:
            best[key] = (weight, f"+{weight:.1f} {why}")
    total = round(sum(w for w, _ in best.values()), 2)
    return Score(value=total, reasons=[r for _, r in sorted(best.values(), key=lambda x: -x[0])])
