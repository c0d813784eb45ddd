"""The language of one listing, detected from its own text (py3langid: its model ships inside the package as
arrays, nothing is downloaded or unpickled), with the site's languages as the fallback for short text."""
from __future__ import annotations

import functools
import hashlib
import logging
import re
import zipfile
from pathlib import Path

from wildwatch import cache

log = logging.getLogger(__name__)

MIN_LETTERS = 12  # fewer letters than this ("iPhone 12", "Ngà") say too little: the site's language stands
MIN_CJK = 3  # ideographs carry more per character
MIN_CONFIDENCE = 0.60
# Languages not written in plain ASCII: a longer plain-ASCII text the detector finds no trace of them in is not
# theirs, even on their site ("Tiger Balm red 19g x 3" on Cho Tot). Vietnamese typed without its diacritics
# ("ban nga voi") the detector still recognises, with confidence.
NOT_ASCII = {"vi", "zh"}
# What a listing may be written in: the surveyed languages and the other big marketplace languages. Letting the
# detector choose among all 97 of its languages makes short titles land on neighbours ("pcm" for English).
CANDIDATES = ("zh", "vi", "fr", "sw", "en", "es", "pt", "de", "it", "nl", "ru", "ar", "ja", "ko", "th", "id", "ms")
_LETTER = re.compile(r"[^\W\d_]")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
# Letters only Vietnamese writes: ơ, ư and the vowels with a tone mark below or a hook above (Unicode's Latin
# Extended Additional block is there for Vietnamese). Where they are a fair share of the letters (about one in
# ten in Vietnamese prose), the text is Vietnamese without asking the detector; an address in an English text
# ("Quận Bình Thạnh, Hồ Chí Minh") is far below that.
_VIETNAMESE = re.compile(r"[ơưƠƯ\u1ea0-\u1ef9]")
MIN_VIETNAMESE, VIETNAMESE_SHARE = 3, 0.04


@functools.lru_cache(maxsize=1)
def _identifier():
    from py3langid.langid import LanguageIdentifier

    ptc, pc, classes, nextmove, rows, output = _model()
    identifier = LanguageIdentifier(ptc, pc, classes, nextmove, output, norm_probs=True, tk_row=rows)
    identifier.set_languages(list(CANDIDATES))
    return identifier


def _model() -> tuple:
    """py3langid's model, as its own loader gives it (from the cache: only the CANDIDATES' columns). The package
    ships it xz-compressed: unpacking takes ~0.45 s, paid by every crawl process (one per shard and site) before
    its first page. So it is unpacked once into the user's cache folder and read from there; without a writable
    cache, from the package as before."""
    from py3langid import modelio
    from py3langid.langid import MODEL_DIR, MODEL_FILE

    source = MODEL_DIR / MODEL_FILE
    cached = _cache_path(source)
    if cached is None:
        return modelio.load_model(source)
    try:
        return _read_unpacked(cached)
    except (FileNotFoundError, NotADirectoryError):  # not unpacked yet
        pass
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:  # damaged: unpack again
        log.warning("language model cache %s unreadable (%s): unpacking the model again", cached, exc)
    try:
        _unpack(source, cached)
        return _read_unpacked(cached)
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        log.warning("language model cache %s not written (%s)", cached, exc)
        return modelio.load_model(source)


def _cache_path(source: Path) -> Path | None:
    from importlib.metadata import version

    folder = cache.folder()
    try:
        stat = source.stat()
    except OSError:
        return None
    # Named by the package's version, the model file's size and time and the languages kept: a new model or a
    # new candidate list is never read from an old cache.
    langs = hashlib.sha256(",".join(CANDIDATES).encode()).hexdigest()[:8]
    return (folder / f"py3langid-{version('py3langid')}-{stat.st_size}-{stat.st_mtime_ns}-{langs}.npz"
            if folder else None)


def _unpack(source: Path, cached: Path) -> None:
    """The model as the package's own loader reads it, its per-language columns cut to the CANDIDATES (as
    set_languages cuts them): of the n-gram x language table's 142 columns 17 are ever read, so each process
    reads 3 MB of it, not 28 MB."""
    import numpy as np
    from py3langid import modelio

    def fill(out) -> None:
        ptc, pc, classes, nextmove, rows, output = modelio.load_model(source)
        keep = [i for i, c in enumerate(classes) if c in CANDIDATES]
        np.savez(out, ptc=ptc[:, keep], pc=pc[keep], classes=np.array(classes)[keep], nextmove=np.asarray(nextmove),
                 nextmove_row=np.asarray(rows), out_feat=np.asarray(output, dtype=np.int32))

    cache.write(cached, fill, stale="py3langid-*.npz")


def _read_unpacked(cached: Path) -> tuple:
    """The arrays py3langid.modelio.load_model returns, from the unpacked file (arrays only: no pickle allowed)."""
    import numpy as np

    with np.load(cached, allow_pickle=False) as data:
        return (data["ptc"], data["pc"], data["classes"].tolist(), _int_view(data["nextmove"]),
                _int_view(data["nextmove_row"]), data["out_feat"].tolist())


def _int_view(values) -> memoryview:
    # The detector walks its automaton in these, indexing them once per byte of text: a view of plain ints over
    # the array just read indexes as fast as a stdlib array (numpy scalars are slower) and copies nothing
    # (copying the 39 MB transition table took ~0.1 s of every process's start).
    return memoryview(values).cast("B").cast({2: "H", 4: "I", 8: "L"}[values.dtype.itemsize])


def warm_up() -> None:
    """Load the detector's model now (it is otherwise loaded by the first listing long enough to need it)."""
    _identifier()


def detect(text: str | None, site_languages: list[str] | tuple[str, ...]) -> str | None:
    """ISO 639-1 code of the text's language, or the site's first language when the text is too short or the
    detector unsure. A site language wins a near tie: "Radiated tortoise" on an English-and-Swahili site."""
    fallback = site_languages[0] if site_languages else None
    text = (text or "").strip()
    letters = len(_LETTER.findall(text))
    cjk = len(_CJK.findall(text))
    if cjk >= MIN_CJK and cjk * 2 >= letters:
        return "zh"  # ideographs are Chinese for every site we survey; the detector's 'ja' for short kanji is noise
    vietnamese = len(_VIETNAMESE.findall(text))
    if vietnamese >= MIN_VIETNAMESE and vietnamese >= VIETNAMESE_SHARE * letters:
        return "vi"
    if letters < MIN_LETTERS:
        return fallback
    ranked = _identifier().rank(text)
    best, p_best = ranked[0]
    if p_best < MIN_CONFIDENCE:
        in_site = [(lang, p) for lang, p in ranked[:2] if lang in site_languages]
        if in_site and in_site[0][1] >= 0.25:
            return in_site[0][0]
        if fallback in NOT_ASCII and text.isascii() and dict(ranked).get(fallback, 0.0) < 0.05:
            return "en"  # product and brand names in plain ASCII: the marketplaces' lingua franca
        return fallback
    return best
