"""Matcher throughput: texts/s of the engine (folding, both Aho-Corasick passes, scoring) against a naive
baseline (one compiled regex alternation of the same folded terms, on the same folded text), at 100, 2,000
and 20,000 terms, with automaton build time and peak memory.

Run: .venv/bin/python bench/matching.py [--texts 200000] [--baseline-texts 2000]
"""
from __future__ import annotations

import argparse
import gc
import random
import re
import sys
import time
import tracemalloc
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from wildwatch import config, keywords, matching  # noqa: E402

FILLER = {
    "en": "genuine old carved for sale good condition price negotiable delivery available contact now "
          "vintage collection rare piece handmade natural beautiful large small set of two".split(),
    "fr": "vends très bon état prix à débattre livraison possible contactez moi ancien sculpté pièce "
          "unique collection rare beau grand petit lot de".split(),
    "vi": "bán hàng đẹp giá tốt giao toàn quốc liên hệ zalo hàng hiếm cổ chạm khắc tự nhiên còn ít "
          "ship cod mới về".split(),
    "sw": "inauzwa bei nafuu halisi mpya kabisa wasiliana nami kwa jumla ya zamani nzuri kubwa ndogo "
          "haraka ofa".split(),
    "zh": list("出售正品老货包邮私聊微信现货收藏级手工天然精品特价量大从优全国可议价"),
}


def make_texts(n: int, terms: list[str], seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    langs = list(FILLER)
    texts = []
    for _ in range(n):
        lang = rng.choice(langs)
        words = FILLER[lang]
        parts, size = [], 0
        while size < 300:
            if rng.random() < 0.03:
                word = rng.choice(terms)  # about one planted term per text
            else:
                word = rng.choice(words)
            parts.append(word)
            size += len(word) + (0 if lang == "zh" else 1)
        texts.append(("" if lang == "zh" else " ").join(parts)[:320])
    return texts


def synthetic_terms(n: int, seed: int = 11) -> list[keywords.Term]:
    """Pseudo-words, Latin and CJK, to grow the term list to the sizes a large programme would use."""
    rng = random.Random(seed)
    syllables = "ba be bi bo bu ka ke ki ko ku ma me mi mo mu na ne ni no nu ra re ri ro ru ta te ti to tu".split()
    cjk = [chr(c) for c in range(0x4E00, 0x4E00 + 3000)]
    out, seen = [], set()
    while len(out) < n:
        if rng.random() < 0.2:
            word = "".join(rng.choice(cjk) for _ in range(rng.randint(2, 4)))
            lang = "zh"
        else:
            word = " ".join("".join(rng.choice(syllables) for _ in range(rng.randint(2, 4)))
                            for _ in range(rng.randint(1, 2)))
            lang = rng.choice(["en", "fr", "vi", "sw"])
        if word in seen:
            continue
        seen.add(word)
        out.append(keywords.Term(term=word, language=lang, group="ivory", kind="product", species=None,
                                 cites=None, source="bench"))
    return out


def knowledge_base(size: int) -> keywords.KeywordBase:
    real = keywords.load(config.load().keywords_dir)
    innocent = [t for t in real.terms if t.kind == "innocent"]
    terms = [t for t in real.terms if t.kind != "innocent"][:size]
    if len(terms) < size:
        terms += synthetic_terms(size - len(terms))
    return replace(real, terms=tuple(terms) + tuple(innocent))


def run_engine(kb, texts):
    started = time.perf_counter()
    matcher = matching.Matcher(kb)
    build = time.perf_counter() - started
    gc.freeze()  # as the crawl's matching pipeline does once its matcher is built
    started = time.perf_counter()
    queued = 0
    for text in texts:
        if matching.score(matcher.match_listing(text, None)).value >= 1.0:
            queued += 1
    elapsed = time.perf_counter() - started
    # Peak memory of building and using the matcher, measured apart: tracemalloc slows what it watches.
    tracemalloc.start()
    again = matching.Matcher(kb)
    for text in texts[:1000]:
        matching.score(again.match_listing(text, None))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return build, len(texts) / elapsed, peak, queued


def run_baseline(kb, texts):
    folded_terms = sorted({matching.fold(t.term).strip() for t in kb.terms if t.kind != "innocent"},
                          key=len, reverse=True)
    started = time.perf_counter()
    regex = re.compile("|".join(re.escape(t) for t in folded_terms))
    build = time.perf_counter() - started
    started = time.perf_counter()
    hits = 0
    for text in texts:
        hits += sum(1 for _ in regex.finditer(matching.fold(text)))
    return build, len(texts) / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--texts", type=int, default=200_000)
    parser.add_argument("--baseline-texts", type=int, default=2_000,
                        help="the regex baseline is slow: it runs on the first N texts")
    args = parser.parse_args()
    print(f"{'terms':>6s} {'build s':>8s} {'engine texts/s':>15s} {'peak MB':>8s} {'queued %':>9s} "
          f"{'regex build s':>14s} {'regex texts/s':>14s} {'speed-up':>9s}")
    for size in (100, 2_000, 20_000):
        kb = knowledge_base(size)
        planted = [t.term for t in kb.terms if t.kind != "innocent"]
        texts = make_texts(args.texts, planted)
        build, rate, peak, queued = run_engine(kb, texts)
        rbuild, rrate = run_baseline(kb, texts[: args.baseline_texts])
        print(f"{size:6d} {build:8.2f} {rate:15,.0f} {peak / 1e6:8.1f} {100 * queued / len(texts):9.1f} "
              f"{rbuild:14.2f} {rrate:14,.0f} {rate / rrate:8.0f}x")
    print(f"texts: {args.texts:,} of ~300 characters in zh/vi/fr/sw/en; baseline on the first "
          f"{args.baseline_texts:,}; one core; Python {sys.version.split()[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
