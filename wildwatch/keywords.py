"""The keyword knowledge base in keywords/: loading and validation.

Files are the source of truth; the database `keywords` table is a copy refreshed at each crawl so matches
can point at a keyword row.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

LANGUAGES = {"zh", "vi", "fr", "sw", "en"}
TERM_KINDS = {"product", "species", "code_word"}
CITES_APPENDICES = {"I", "II", "III", "I/II", "II/III"}
GROUP_FIELDS = {"group", "label", "species", "cites", "terms", "disguises", "innocent"}
TERM_FIELDS = {"term", "lang", "kind", "source", "species", "cites", "search"}
CONTEXT_FIELDS = {"term", "lang", "source"}


class KeywordError(ValueError):
    pass


@dataclass(frozen=True)
class Term:
    term: str
    language: str
    group: str
    kind: str  # product, species, code_word, disguise or innocent
    species: str | None
    cites: str | None
    source: str
    search: bool = False


@dataclass(frozen=True)
class KeywordBase:
    groups: dict[str, str]  # id -> label
    terms: tuple[Term, ...]

    def search_queries(self, languages, groups=None) -> list[Term]:
        """Terms to type into a marketplace search box, deduplicated by text."""
        seen, out = set(), []
        for t in self.terms:
            if t.search and t.language in languages and (not groups or t.group in groups):
                key = t.term.casefold()
                if key not in seen:
                    seen.add(key)
                    out.append(t)
        return out


def _check_fields(entry, allowed, required, where):
    if not isinstance(entry, dict):
        raise KeywordError(f"{where}: expected a mapping, got {entry!r}")
    unknown = set(entry) - allowed
    if unknown:
        raise KeywordError(f"{where}: unknown field(s) {sorted(unknown)}")
    for name in required:
        value = entry.get(name)
        if not isinstance(value, str) or not value.strip():
            raise KeywordError(f"{where}: missing or empty '{name}'")


def load(directory: Path) -> KeywordBase:
    directory = Path(directory)
    sources_file = directory / "sources.yaml"
    if not sources_file.exists():
        raise KeywordError(f"{sources_file} is missing")
    sources = yaml.safe_load(sources_file.read_text(encoding="utf-8")) or {}
    groups: dict[str, str] = {}
    terms: list[Term] = []
    seen: dict[tuple, str] = {}
    for path in sorted(directory.glob("*.yaml")):
        if path.name == "sources.yaml":
            continue
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise KeywordError(f"{path.name}: not valid YAML: {exc}") from exc
        _check_fields(doc, GROUP_FIELDS, ("group", "label"), path.name)
        group = doc["group"]
        if group != path.stem:
            raise KeywordError(f"{path.name}: group '{group}' must equal the file name '{path.stem}'")
        if doc.get("cites") and str(doc["cites"]) not in CITES_APPENDICES:
            raise KeywordError(f"{path.name}: unknown CITES appendix {doc['cites']!r}")
        groups[group] = doc["label"]
        if not doc.get("terms"):
            raise KeywordError(f"{path.name}: no terms")
        for section, kind_default in (("terms", None), ("disguises", "disguise"), ("innocent", "innocent")):
            for i, entry in enumerate(doc.get(section) or []):
                where = f"{path.name}: {section}[{i}]"
                if kind_default:
                    _check_fields(entry, CONTEXT_FIELDS, ("term", "lang", "source"), where)
                    kind = kind_default
                else:
                    _check_fields(entry, TERM_FIELDS, ("term", "lang", "kind", "source"), where)
                    kind = entry["kind"]
                    if kind not in TERM_KINDS:
                        raise KeywordError(f"{where}: unknown kind {kind!r} (one of {sorted(TERM_KINDS)})")
                if entry["lang"] not in LANGUAGES:
                    raise KeywordError(f"{where}: unknown language {entry['lang']!r}")
                if entry["source"] not in sources:
                    raise KeywordError(f"{where}: unknown source {entry['source']!r} (see sources.yaml)")
                cites = str(entry.get("cites", doc.get("cites") or "")) or None
                if cites and cites not in CITES_APPENDICES:
                    raise KeywordError(f"{where}: unknown CITES appendix {cites!r}")
                text = entry["term"].strip()
                key = (text.casefold(), entry["lang"], group, kind)
                if key in seen:
                    raise KeywordError(f"{where}: duplicate of {seen[key]} ({text!r})")
                seen[key] = where
                search = entry.get("search", kind == "product")
                terms.append(Term(term=text, language=entry["lang"], group=group, kind=kind,
                                  species=entry.get("species", doc.get("species")), cites=cites,
                                  source=entry["source"], search=bool(search) and not kind_default))
    if not groups:
        raise KeywordError(f"no keyword files in {directory}")
    return KeywordBase(groups=groups, terms=tuple(terms))
