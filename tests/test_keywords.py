from pathlib import Path

import pytest

from wildwatch import config, keywords

GROUPS = {"ivory", "rhino_horn", "pangolin", "big_cats", "hornbill", "marine_turtle", "bear_bile", "shark_fin",
          "live_reptiles", "live_birds", "primates", "orchids"}


def test_the_keyword_lists_are_valid_and_cover_every_group_and_language():
    kb = keywords.load(config.load().keywords_dir)
    assert GROUPS <= set(kb.groups)
    for group in GROUPS:
        languages = {t.language for t in kb.terms if t.group == group and t.kind != "innocent"}
        assert keywords.LANGUAGES <= languages, f"{group} lacks {keywords.LANGUAGES - languages}"
    assert all(t.source for t in kb.terms)


def _write(tmp_path: Path, body: str, name="ivory.yaml") -> Path:
    (tmp_path / "sources.yaml").write_text("s1: a source\n")
    (tmp_path / name).write_text(body)
    return tmp_path


GOOD = "group: ivory\nlabel: Ivory\nterms:\n  - {term: ivory, lang: en, kind: product, source: s1}\n"


@pytest.mark.parametrize("body, message", [
    (GOOD.replace("source: s1", "source: nowhere"), "unknown source"),
    (GOOD.replace(", source: s1", ""), "missing or empty 'source'"),
    (GOOD.replace("lang: en", "lang: xx"), "unknown language"),
    (GOOD.replace("kind: product", "kind: gadget"), "unknown kind"),
    (GOOD.replace("group: ivory", "group: ivroy"), "must equal the file name"),
    (GOOD + "  - {term: Ivory, lang: en, kind: product, source: s1}\n", "duplicate"),
    (GOOD + "  - {term: ivory, lang: en, kind: product, source: s1, colour: red}\n", "unknown field"),
    (GOOD + "  - [not, a, mapping]\n", "expected a mapping"),
    ("group: ivory\nlabel: x\nterms: [\n", "not valid YAML"),
])
def test_a_bad_entry_is_rejected_with_its_place(tmp_path, body, message):
    with pytest.raises(keywords.KeywordError, match=message):
        keywords.load(_write(tmp_path, body))


def test_search_queries_follow_languages_and_groups():
    kb = keywords.load(config.load().keywords_dir)
    vi_ivory = [t.term for t in kb.search_queries(["vi"], ["ivory"])]
    assert "ngà voi" in vi_ivory and all(t.language == "vi" for t in kb.search_queries(["vi"]))
    assert "tượng ngà" not in vi_ivory  # search: false


def _cites_index() -> Path:
    folder = config.load().realdata_dir / "cites-index-naturalis" / "resources"
    found = sorted(folder.glob("Index_of_CITES_Species_*.csv*")) if folder.is_dir() else []
    if not found:
        pytest.skip(f"the CITES Species+ index is not here ({folder}); set WILDWATCH_REALDATA to shared/realdata")
    return found[0]


def test_import_cites_adds_names_with_appendix_and_rerunning_changes_nothing(tmp_path):
    import shutil

    from wildwatch import cites

    index = _cites_index()
    folder = tmp_path / "kw"
    shutil.copytree(config.load().keywords_dir, folder, ignore=shutil.ignore_patterns("cites"))
    counts = cites.import_index(index, folder)
    first = {p.name: p.read_bytes() for p in (folder / "cites").glob("*.yaml")}
    assert counts["pangolin"] > 0 and counts["ivory"] > 0
    kb = keywords.load(folder)
    names = {(t.term, t.kind, t.cites) for t in kb.terms if t.group == "pangolin"}
    assert ("Manis javanica", "species", "I") in names
    assert any(kind == "common_name" and term == "Sunda Pangolin" for term, kind, _ in names)
    french = {t.term for t in kb.terms if t.group == "ivory" and t.language == "fr"}
    assert "Eléphant d'Asie" in french
    # synonyms: Loxodonta cyclotis is listed as a synonym of Loxodonta africana in the 2017 index
    assert any(t.term == "Loxodonta cyclotis" and t.species == "Loxodonta africana" for t in kb.terms)
    cites.import_index(index, folder)
    assert {p.name: p.read_bytes() for p in (folder / "cites").glob("*.yaml")} == first


def test_the_committed_cites_names_are_the_import_of_the_index(tmp_path):
    """keywords/cites/ must be exactly what the import writes, so nobody edits it by hand."""
    import shutil

    from wildwatch import cites

    index = _cites_index()
    folder = tmp_path / "kw"
    shutil.copytree(config.load().keywords_dir, folder, ignore=shutil.ignore_patterns("cites"))
    cites.import_index(index, folder)
    committed = config.load().keywords_dir / "cites"
    for path in (folder / "cites").glob("*.yaml"):
        assert path.read_bytes() == (committed / path.name).read_bytes(), path.name


def test_an_imported_file_for_an_unknown_group_is_rejected(tmp_path):
    (tmp_path / "cites").mkdir()
    _write(tmp_path, GOOD)
    (tmp_path / "cites" / "unicorn.yaml").write_text("group: unicorn\nterms: []\n")
    with pytest.raises(keywords.KeywordError, match="must be a known group"):
        keywords.load(tmp_path)


def test_the_keyword_base_is_kept_in_the_cache_as_json_and_remade_when_a_file_or_the_cache_changes(
        tmp_path, monkeypatch):
    import shutil

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    lists = tmp_path / "keywords"
    shutil.copytree(config.load().keywords_dir, lists)
    fresh = keywords._load(lists)

    def load() -> keywords.KeywordBase:
        keywords._load_cached.cache_clear()  # as a new process would
        return keywords.load(lists)

    assert load() == fresh
    [cached] = (tmp_path / "cache" / "wildwatch").glob("keywords-*.json")
    cached.write_text(cached.read_text().replace('"ivory"', '"IVORY-FROM-CACHE"', 1))
    assert "IVORY-FROM-CACHE" in load().groups, "read from the cache"

    cached.write_bytes(cached.read_bytes()[:500])  # cut short
    assert load() == fresh
    (lists / "ivory.yaml").write_text((lists / "ivory.yaml").read_text() + "\n# an analyst's note\n")
    assert load() == fresh and len(list((tmp_path / "cache" / "wildwatch").glob("keywords-*.json"))) == 1
    (lists / "ivory.yaml").write_text((lists / "ivory.yaml").read_text().replace("group: ivory", "group: ivroy"))
    with pytest.raises(keywords.KeywordError):
        load()  # a mistake made after the cache was written is found, not hidden by it
