"""Keyword matching and scoring of listing text.

Text is folded once (compatibility forms, case, diacritics, traditional to simplified Chinese, zero-width
characters) and searched with Aho-Corasick automata, so thousands of terms cost one pass. A second pass
runs on the text's skeleton (separators dropped, look-alike digits and symbols read as letters) to catch
disguised spellings such as "i.v.o.r.y", "象 牙", "n.g.à v.o.i" or "1v0ry". Every match reports its span in
the original text, for highlighting.
"""
from __future__ import annotations

import bisect
import itertools
import re
import unicodedata
from dataclasses import dataclass, field

import ahocorasick_rs
import opencc

from wildwatch.keywords import KeywordBase, Term

# Weights per kind of term; a listing is queued when its score reaches the configured threshold.
# A common name alone ("Panda", "Loggerhead") is too often a toy or a brand to queue a listing.
KIND_WEIGHT = {"product": 3.0, "species": 3.0, "code_word": 2.0, "disguise": 2.0, "common_name": 0.8}
# Text read from photos is weighed below the description: OCR misreads, and a photo may show a shop sign.
FIELD_FACTOR = {"title": 1.0, "description": 0.7, "photo_text": 0.5}
INNOCENT_WINDOW = 30  # characters around a hit in which an innocent context weakens it
NEARBY_INNOCENT_FACTOR = 0.2
OBFUSCATION_BONUS = 1.2  # a deliberately disguised spelling is itself a signal
OTHER_TERMS_FACTOR = 0.3  # further terms of a group add a little: one strong term is what counts
MIN_JOINED_LENGTH = 6  # "ngavoi" for "ngà voi"; shorter joined forms ("tete") are ordinary words

# Look-alike characters read as the letter they imitate, in skeletons only ("1v0ry", "p@ngolin").
CONFUSABLES = {"0": "o", "1": "i", "l": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s",
               "!": "i", "|": "i"}
_SUBSTITUTES = set(CONFUSABLES) - {"l"}
_SYMBOL_SUBSTITUTES = frozenset(c for c in CONFUSABLES if not c.isalnum())
_NON_WORD = re.compile(r"[\W_]+")
_SPACES = re.compile(r" {2,}")
_T2S = opencc.OpenCC("t2s")


_CJK_CHAR = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")  # CJK ideographs and compatibility ideographs


def _is_cjk_char(c: str) -> bool:
    return _CJK_CHAR.match(c) is not None


class _FoldTable(dict):
    """str.translate table built lazily: each character maps to its folded form."""

    def __missing__(self, code: int) -> str:
        c = chr(code)
        if c.isspace():
            out = " "
        elif unicodedata.category(c) == "Cf":  # zero-width space/joiner, direction marks
            out = ""
        else:
            if _is_cjk_char(c):
                c = _T2S.convert(c)
            decomposed = unicodedata.normalize("NFKD", c.casefold())
            out = "".join(x for x in decomposed if not unicodedata.combining(x)).replace("đ", "d")
        self[code] = out
        return out


_FOLD = _FoldTable()


# ASCII text folds to lower case with every whitespace character a space (what _FOLD gives it, faster).
_ASCII_SPACES = str.maketrans({c: " " for c in "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f"})


def fold(text: str) -> str:
    if text.isascii():
        return _SPACES.sub(" ", text.lower().translate(_ASCII_SPACES))
    return _SPACES.sub(" ", text.translate(_FOLD))


class _WidthTable(dict):
    """Maps a character to "1" when it folds to exactly one character, else to "x"."""

    def __missing__(self, code: int) -> str:
        out = "1" if len(_FOLD[code]) == 1 else "x"
        self[code] = out
        return out


_WIDTH = _WidthTable()


def _origin(text: str, folded: str | None = None) -> list[int] | range:
    """For each character of fold(text), the index of the original character it came from."""
    if folded is not None and len(folded) == len(text) and (text.isascii() or "x" not in text.translate(_WIDTH)):
        return range(len(text))  # the usual case: one folded character per original one
    origin: list[int] = []
    space = False
    for i, ch in enumerate(text):
        for c in _FOLD[ord(ch)]:
            if c == " ":
                if space:
                    continue
                space = True
            else:
                space = False
            origin.append(i)
    return origin


def _read_confusables(folded: str) -> str:
    """folded with look-alikes read as letters: a few substring replacements beat a per-character table."""
    for fake, letter in CONFUSABLES.items():
        if fake in folded:
            folded = folded.replace(fake, letter)
    return folded


def skeleton(folded: str) -> str:
    return _NON_WORD.sub("", _read_confusables(folded))


_WORD_RUN = re.compile(r"[^\W_]+")


class _Folded:
    """A field's text as the passes see it: folded, its skeleton, and (worked out only when a skeleton hit
    needs placing) where the skeleton's word runs sit."""

    def __init__(self, folded: str):
        self.folded = folded
        self.translated = _read_confusables(folded)
        # The word runs of the translated text (and empty strings at its ends): joined, the skeleton.
        self.runs = _NON_WORD.split(self.translated)
        self.skeleton = "".join(self.runs)
        self._edges: tuple[set[int], set[int]] | None | bool = False
        self._skeleton_hits: list | None = None

    def skeleton_hits(self, automaton: "_Automaton") -> list[tuple[int, int, int]]:
        if self._skeleton_hits is None:
            self._skeleton_hits = automaton.hits(self.skeleton)
        return self._skeleton_hits

    def run_edges(self) -> tuple[set[int], set[int]] | None:
        """Skeleton offsets where word runs start and end; None when a symbol read as a letter ("p@ngolin")
        makes a run's edge differ from a word's."""
        if self._edges is False:
            if not any(c in self.folded for c in _SYMBOL_SUBSTITUTES):
                lengths = list(map(len, self.runs))
                self._edges = set(itertools.accumulate(lengths, initial=0)), set(itertools.accumulate(lengths))
            else:
                self._edges = None
        return self._edges


class _SkeletonIndex:
    """For a character of skeleton(folded), its index in folded: word runs and where each starts, looked up
    by bisection (built per word, not per character, and only when a skeleton hit needs placing)."""

    def __init__(self, translated: str):
        self.starts: list[int] = []
        self.offsets: list[int] = []
        n = 0
        for run in _WORD_RUN.finditer(translated):
            self.starts.append(run.start())
            self.offsets.append(n)
            n += run.end() - run.start()

    def __getitem__(self, s: int) -> int:
        k = bisect.bisect_right(self.offsets, s) - 1
        return self.starts[k] + s - self.offsets[k]


def _is_cjk(text: str) -> bool:
    return _CJK_CHAR.search(text) is not None


def _separators(text: str) -> int:
    return sum(1 for c in text if not c.isalnum())


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
    obfuscated: bool = False  # found only once separators and look-alikes were ignored


@dataclass
class Score:
    value: float
    reasons: list[str] = field(default_factory=list)


TERMS, INNOCENT = 0, 1  # the two kinds of pattern each automaton holds


def plurals(folded: str, language: str) -> list[str]:
    """The regular plurals of a term's last word in English, French and Spanish ("elephant tusk" -> "elephant
    tusks", "écaille" -> "écailles", "colmillo" -> "colmillos"): sellers write either, lists hold one.
    Irregular ones ("teeth") and inflections inside a phrase ("défenses d'éléphant") are listed as terms."""
    if language not in ("en", "fr", "es") or not folded[-1:].isalpha() or not folded[-1:].isascii():
        return []
    last = folded[-1]
    if language == "fr":
        return [] if last in "sxz" else [folded + "s"]
    if language == "es":
        return [folded + "s"] if last in "aeiou" else [] if last == "s" else [folded + "es"]
    if last in "sxz" or folded.endswith(("ch", "sh")):
        return [folded + "es"]
    if last == "y" and len(folded) > 2 and folded[-2] not in "aeiou":
        return [folded + "s", folded[:-1] + "ies"]
    return [folded + "s"]


class _Automaton:
    """Aho-Corasick over folded terms (or their skeletons): the wildlife terms and the innocent contexts in
    one automaton, so one pass over a text serves both."""

    def __init__(self, terms: list[Term], innocent: list[Term], folded_terms: dict[str, str],
                 use_skeleton: bool = False):
        """folded_terms: each term's folded form (fold(term).strip()), worked out once for both automata."""
        by_key: dict[str, tuple[list[Term], list[Term]]] = {}
        forms_of: dict[str, set[str]] = {}  # the written forms behind each skeleton
        listed = set(folded_terms.values())
        for which, group in ((TERMS, terms), (INNOCENT, innocent)):
            for t in group:
                folded = folded_terms[t.term]
                # a plural the lists hold as a term of its own is that term's, not counted twice
                for form in (folded, *(p for p in plurals(folded, t.language) if p not in listed)):
                    key = skeleton(form) if use_skeleton else form
                    if key:
                        by_key.setdefault(key, ([], []))[which].append(t)
                        forms_of.setdefault(key, set()).add(form)
        # Per pattern, its payload as a term and as an innocent context (None when it is not one).
        self.payloads: list[tuple[tuple | None, tuple | None]] = []
        for key, groups in by_key.items():
            forms = tuple(forms_of[key])
            self.payloads.append(tuple(self._payload(key, folded_terms[group[0].term], group, forms)
                                       if group else None for group in groups))
        # Read by the plain pass only (a skeleton's skeleton is itself)
        self.skeleton_of = {} if use_skeleton else {key: skeleton(key) for key in by_key}
        # Every hit, overlapping ones included ("ivory" inside "mammoth ivory"), as character offsets.
        self.automaton = ahocorasick_rs.AhoCorasick(list(by_key)) if by_key else None

    @staticmethod
    def _payload(key: str, folded: str, group: list[Term], forms: tuple[str, ...]) -> tuple:
        return key, tuple(group), not _is_cjk(key), _separators(folded), " " in folded, forms

    def hits(self, text: str) -> list[tuple[int, int, int]]:
        """(pattern index, start, end) of every hit."""
        if self.automaton is None:
            return []
        return self.automaton.find_matches_as_indexes(text, overlapping=True)


class _Coverage:
    """Whether a span lies inside one of the given hits (bisect over starts, running maximum of ends)."""

    def __init__(self, hits: list[tuple]):
        spans = sorted((h[0], h[1]) for h in hits)
        self.starts = [a for a, _ in spans]
        self.reach, best = [], -1
        for _, b in spans:
            best = max(best, b)
            self.reach.append(best)

    def covers(self, start: int, end: int) -> bool:
        i = bisect.bisect_right(self.starts, start) - 1
        return i >= 0 and self.reach[i] >= end


def _bounded(folded: str, start: int, end: int) -> bool:
    return (start == 0 or not folded[start - 1].isalnum()) and (end >= len(folded) or not folded[end].isalnum())


def _written_as(span: str, form: str) -> bool:
    """Whether each letter of a skeleton hit is the term's letter or a look-alike standing in for it. The
    skeleton reads "l" as "i", so "cui l" ("in cui l'acquisto") has the skeleton of "cu li" (a slow loris): a
    seller writes "l" for "i" ("lvory"), nobody writes "i" for "l" with the spaces moved."""
    letters = [c for c in span if c.isalnum() or c in CONFUSABLES]
    target = [c for c in form if c.isalnum()]
    if len(letters) != len(target):
        return True  # not letter for letter (a CJK or folded form): the other checks decide
    return all(c == t or CONFUSABLES.get(c) in (t, CONFUSABLES.get(t, t)) for c, t in zip(letters, target, strict=True))


# A hit inside a longer one is dropped when the longer one speaks at least as strongly: "ivory" inside
# "mammoth ivory" goes, "star tortoise" inside the common name "Indian Star Tortoise" stays.
KIND_RANK = {"common_name": 0, "innocent": 0, "code_word": 1, "product": 2, "species": 2, "disguise": 3}


def _rank(terms) -> int:
    return max(KIND_RANK[t.kind] for t in terms)


def _drop_contained(found: list[tuple]) -> list[tuple]:
    """One sweep by start (longest first): reach[r] is the furthest end of an earlier hit of rank >= r."""
    if len(found) < 2:
        return found
    found.sort(key=lambda f: (f[0], -f[1]))
    reach = [-1] * (max(KIND_RANK.values()) + 1)
    kept = []
    for f in found:
        rank = _rank(f[2])
        if reach[rank] < f[1]:
            kept.append(f)
        for r in range(rank + 1):
            reach[r] = max(reach[r], f[1])
    return kept


class Matcher:
    def __init__(self, kb: KeywordBase):
        self.kb = kb
        terms = [t for t in kb.terms if t.kind != "innocent"]
        innocent = [t for t in kb.terms if t.kind == "innocent"]
        # Built by every crawl process before its first page: each term folded once, not once per use.
        folded = {t.term: fold(t.term).strip() for t in kb.terms}
        self._plain = _Automaton(terms, innocent, folded)
        self._skeleton = _Automaton(terms, innocent, folded, use_skeleton=True)

    @property
    def size(self) -> int:
        return len(self.kb.terms)

    def _find(self, text: _Folded, plain_hits: list, which: int) -> list[tuple[int, int, tuple, bool]]:
        """(start, end, terms, obfuscated) in folded coordinates, of the terms (which=TERMS) or the innocent
        contexts (INNOCENT)."""
        folded = text.folded
        found = []
        # Occurrences as written, by their skeleton: all of them, and those bounded as a word must be.
        written: dict[str, int] = {}
        written_bounded: dict[str, int] = {}
        payloads, skeleton_of = self._plain.payloads, self._plain.skeleton_of
        n = len(folded)
        for i, start, end in plain_hits:
            payload = payloads[i][which]
            if payload is None:
                continue
            key, terms, latin, _, _, _ = payload
            skel_key = skeleton_of[key]
            written[skel_key] = written.get(skel_key, 0) + 1
            if latin and ((start and folded[start - 1].isalnum()) or (end < n and folded[end].isalnum())):
                continue
            written_bounded[skel_key] = written_bounded.get(skel_key, 0) + 1
            found.append((start, end, terms, False))
        payloads = self._skeleton.payloads
        skel_hits = [h for h in text.skeleton_hits(self._skeleton) if payloads[h[0]][which] is not None]
        if not skel_hits:
            return _drop_contained(found)
        edges = text.run_edges()
        if edges is not None:
            # A Latin hit must start and end where words do: in skeleton offsets, at the edges of word runs.
            # Each bounded occurrence as written shows there too, so the counts tell whether the skeleton
            # found anything else.
            run_starts, run_ends = edges
            skel_hits = [h for h in skel_hits
                         if not payloads[h[0]][which][2] or (h[1] in run_starts and h[2] in run_ends)]
            reference = written_bounded
        else:
            # Every occurrence as written is its own skeleton hit at the same place; each hit is checked below.
            reference = written
        counts: dict[str, int] = {}
        for i, _, _ in skel_hits:
            key = payloads[i][which][0]
            counts[key] = counts.get(key, 0) + 1
        if all(reference.get(k, 0) >= c for k, c in counts.items()):
            return _drop_contained(found)  # the skeleton found nothing the plain pass had not
        index = _SkeletonIndex(text.translated)
        covered = _Coverage(found)
        for i, s, e in skel_hits:
            key, terms, latin, term_seps, multiword, forms = payloads[i][which]
            start, end = index[s], index[e - 1] + 1
            if covered.covers(start, end):  # already found as written
                continue
            span = folded[start:end]
            if latin and not (_bounded(folded, start, end) and any(_written_as(span, form) for form in forms)):
                continue
            seps = _separators(span)
            substituted = any(c in _SUBSTITUTES for c in span)
            joined = multiword and seps == 0 and len(key) >= MIN_JOINED_LENGTH
            if (seps >= term_seps and seps > 0) or substituted or joined:
                found.append((start, end, terms, True))
        return _drop_contained(found)

    def match(self, text: str | None, field_name: str = "title") -> list[Match]:
        if not text:
            return []
        folded = fold(text)
        prepared = _Folded(folded)
        plain_hits = self._plain.hits(folded)
        hits = self._find(prepared, plain_hits, TERMS)
        if not hits:
            return []
        origin = _origin(text, folded)
        innocent = [(start, end, terms) for start, end, terms, _ in self._find(prepared, plain_hits, INNOCENT)]
        matches = []
        for start, end, terms, obfuscated in hits:
            o_start, o_end = origin[start], origin[end - 1] + 1
            for term in terms:
                context, overlaps = None, False
                for i_start, i_end, i_terms in innocent:
                    relevant = [t for t in i_terms if t.group == term.group or t.all_groups]
                    if not relevant or (start <= i_start and i_end <= end):
                        continue  # a context inside the term itself ("plastic" in "white plastic")
                    if i_start < end and start < i_end:
                        context, overlaps = relevant[0].term, True
                        break
                    if i_start - INNOCENT_WINDOW <= end and start <= i_end + INNOCENT_WINDOW:
                        context = relevant[0].term
                matches.append(Match(term=term.term, group=term.group, kind=term.kind, language=term.language,
                                     field=field_name, start=o_start, end=o_end, text=text[o_start:o_end],
                                     innocent=context, overlaps_innocent=overlaps, obfuscated=obfuscated))
        return matches

    def match_listing(self, title: str | None, description: str | None) -> list[Match]:
        return self.match(title, "title") + self.match(description, "description")


def score(matches: list[Match]) -> Score:
    """Per group: its best term counts fully, further terms a little; each contribution is explained. One
    place in the text counts once per group, whatever number of its terms it spells ("Leopard", "Léopard")."""
    at_place: dict[tuple, Match] = {}
    for m in matches:
        place = (m.group, m.field, m.start, m.end)
        if place not in at_place or KIND_WEIGHT[m.kind] > KIND_WEIGHT[at_place[place].kind]:
            at_place[place] = m
    best: dict[tuple[str, str], tuple[float, str]] = {}
    for m in at_place.values():
        weight = KIND_WEIGHT[m.kind] * FIELD_FACTOR[m.field]
        why = f"{m.kind} '{m.term}' ({m.group}) in {m.field}"
        if m.obfuscated:
            weight, why = weight * OBFUSCATION_BONUS, why + f" written as '{m.text}' (disguised spelling)"
        if m.overlaps_innocent:
            weight, why = 0.0, why + f", inside innocent context '{m.innocent}'"
        elif m.innocent:
            weight, why = weight * NEARBY_INNOCENT_FACTOR, why + f", near innocent context '{m.innocent}'"
        if m.kind == "disguise":
            why += " [disguise: flag for review]"
        key = (m.group, m.term)
        if key not in best or weight > best[key][0]:
            best[key] = (weight, why)
    by_group: dict[str, list[tuple[float, str]]] = {}
    for (group, _), contribution in best.items():
        by_group.setdefault(group, []).append(contribution)
    total, reasons = 0.0, []
    for contributions in by_group.values():
        contributions.sort(key=lambda c: -c[0])
        for i, (weight, why) in enumerate(contributions):
            points = weight if i == 0 else weight * OTHER_TERMS_FACTOR
            total += points
            reasons.append((points, f"+{points:.1f} {why}"))
    reasons.sort(key=lambda r: -r[0])
    return Score(value=round(total, 2), reasons=[r for _, r in reasons])
