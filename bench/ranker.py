"""The ranker's costs, all in one run of this script:

1. training time and peak memory at 1k, 10k and 100k decisions, and at 10k decisions with 100k undecided
   listings for each way the trainer can use them (each size in its own process, so each peak is
   its own), on real analysts' texts when ../shared/realdata is present (stringham-bird-ads, cycled with a
   random word added for the 100k set), else on the development set cycled the same way;
2. scoring throughput on one core at 1k, 10k and 100k listings: one listing at a time as the crawl pipeline
   scores (features from the matches it already has), in batches of 2,000 as re-scoring the queue does, and
   the keyword matcher (match + score) on the same texts, for comparison;
   (on marketplace-like listings: the development set's titles with demo descriptions);
3. the crawl pipeline's pages/s on the 2,000-listing demo marketplace of bench/crawl.py, without a model and
   with an active one trained on the demo marketplaces' listings as analysts would decide them (fresh scratch
   database each).

Run: .venv/bin/python bench/ranker.py [--sizes 1000,10000,100000] [--skip-crawl]
"""
from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):  # one core, as a task slot gets
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import csv  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from wildwatch import config, matching  # noqa: E402
from wildwatch.ranker import registry  # noqa: E402
from wildwatch.ranker.features import Record, fact_tokens, prepare  # noqa: E402
from wildwatch.ranker.model import MAX_UNLABELLED, PRODUCTION_USE, UNLABELLED_USES, train  # noqa: E402


def corpus(n: int, seed: int = 0) -> tuple[list[str], list[int], str]:
    """n labelled texts: real ones first, then cycled with one random word of the corpus added."""
    path = config.load().realdata_dir / "stringham-bird-ads" / "data" / "raw" / "text_w_labels.csv"
    if path.exists():
        with path.open(encoding="latin-1") as fh:
            rows = [(r["text_stop_stem"], int(r["label1"])) for r in csv.DictReader(fh) if r["label1"] in ("0", "1")]
        source = "stringham-bird-ads (real analysts' decisions)"
    else:
        with (ROOT / "keywords" / "eval" / "devset.csv").open(encoding="utf-8") as fh:
            rows = [(r["text"], int(r["label"])) for r in csv.DictReader(fh)]
        source = "keywords/eval/devset.csv (shared realdata absent)"
    rng = random.Random(seed)
    words = [w for text, _ in rows[:2000] for w in text.split()]
    texts, labels = [], []
    for i in range(n):
        text, label = rows[i % len(rows)]
        texts.append(text if i < len(rows) else f"{text} {rng.choice(words)} {rng.choice(words)}")
        labels.append(label)
    return texts, labels, source


def listings(n: int, seed: int = 1) -> list[str]:
    """Marketplace-like listings for the scoring figures: the development set's titles (every language, wildlife
    terms, hard negatives) each with a demo listing's description, so the matcher has hits to work on."""
    from wildwatch.demo import generator

    with (ROOT / "keywords" / "eval" / "devset.csv").open(encoding="utf-8") as fh:
        titles = [r["text"] for r in csv.DictReader(fh)]
    descriptions = [x.description for s in generator.generate().values() for x in s.listings]
    rng = random.Random(seed)
    return [f"{titles[i % len(titles)]}. {rng.choice(descriptions)} {rng.choice(descriptions)}" for i in range(n)]


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def train_once(n: int, unlabelled: int = 0, use: str = "none") -> dict:
    texts, labels, _ = corpus(n)
    matcher = registry.matcher_for()
    records = [Record(title=t, language="en", site="bench", country="AU") for t in texts]
    pool = [Record(title=t, language="en", site="bench", country="AU") for t in listings(unlabelled)]
    started = time.perf_counter()
    prepare(records, matcher)
    if use in ("vocabulary", "self-training"):
        prepare(pool, matcher)  # their facts; in production the crawl has matched them already
    prepared = time.perf_counter()
    model = train(records, labels, unlabelled=pool, use=use)
    done = time.perf_counter()
    blob = model.dumps()
    return {"decisions": n, "unlabelled": unlabelled, "use": use,
            "prepare_s": prepared - started, "train_s": done - prepared, "peak_mb": peak_mb(),
            "model_mb": len(blob) / 1e6, "features": model.info["features"], "folds": model.info["cross_validation"]["folds"]}


def production_model(n: int, matcher) -> object:
    """Trained as the monthly round trains: the decisions, and topics of as many undecided listings as it reads."""
    texts, labels, _ = corpus(n)
    records = [Record(title=t, language="en", site="bench", country="AU") for t in texts]
    prepare(records, matcher)
    return train(records, labels, unlabelled=[Record(title=t) for t in listings(MAX_UNLABELLED)], use=PRODUCTION_USE)


def demo_model(matcher):
    """A desk's model for the demo marketplaces: trained on their 172 listings (this month's and next) as the
    analysts would decide them, with topics of undecided listings, as the monthly round trains."""
    from wildwatch.demo import generator

    listed = [x for site in generator.generate().values() for x in site.listings + site.later]
    records = [Record(title=x.title, description=x.description, price=float(x.price), currency=x.currency,
                      site=x.site) for x in listed]
    prepare(records, matcher)
    labels = np.array([int(x.label == "wildlife") for x in listed])
    model = train(records, labels, unlabelled=[Record(title=t) for t in listings(MAX_UNLABELLED)], use=PRODUCTION_USE)
    rows = [{"title": x.title, "decision": "confirmed" if y else "not_wildlife"} for x, y in zip(listed, labels, strict=True)]
    return model, rows


def scoring(sizes: list[int]) -> list[dict]:
    matcher = registry.matcher_for()
    model = production_model(10_000, matcher)
    out = []
    for n in sizes:
        texts = listings(n)
        # the matcher, as the pipeline runs it on every listing
        started = time.perf_counter()
        found = [matcher.match_listing(t, None) for t in texts]
        scores = [matching.score(f).value for f in found]
        match_s = time.perf_counter() - started
        records = [Record(title=t, language="en", site="bench", country="AU", price=None,
                          matches=[m.__dict__ for m in f], keyword_score=s) for t, f, s in zip(texts, found, scores, strict=True)]
        # one at a time, as RankPipeline does (facts from the matches the item already carries)
        started = time.perf_counter()
        for r in records[: min(n, 20_000)]:
            r.facts = fact_tokens(r)
            model.score_one(r)
        single_s = (time.perf_counter() - started) * n / min(n, 20_000)
        started = time.perf_counter()
        for i in range(0, n, 2000):
            chunk = records[i:i + 2000]
            for r in chunk:
                r.facts = fact_tokens(r)
            model.score(chunk)
        batch_s = time.perf_counter() - started
        out.append({"listings": n, "matcher_per_s": n / match_s, "single_per_s": n / single_s,
                    "batch_per_s": n / batch_s})
    return out


def crawl_pages_per_s(with_model: bool, listings: int = 2000) -> float:
    import tempfile

    from crawl import big_market, run_full, site_dir
    from scratch import scratch_database
    from wildwatch import db

    name = "wildwatch_bench_ranker_" + ("model" if with_model else "none")
    with scratch_database(name) as url:
        if with_model:
            conn = db.connect(url)
            try:
                model, rows = demo_model(registry.matcher_for())
                with conn:
                    saved = registry.save(conn, model, [dict(r, decided_at=None) for r in rows], "bench")
                registry.activate(conn, saved["version"], "bench", ranker=model)
            finally:
                conn.close()
        work = Path(tempfile.mkdtemp(prefix="wildwatch-bench-ranker-"))
        demo = big_market(listings, 0.0)
        urls = demo.start()
        env = {**os.environ, "WILDWATCH_SITES_DIR": str(site_dir(work, browser=False)), "WILDWATCH_EVIDENCE": "off",
               "WILDWATCH_SPOOL_DIR": str(work / "spool"),
               **{f"WILDWATCH_BASE_URL__{n.upper()}": u for n, u in urls.items()}}
        try:
            r = run_full(env)
        finally:
            demo.stop()
        conn = db.connect(url)
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT count(*) FILTER (WHERE reason = 'ranker'), count(*) FROM review_queue")
                by_ranker, queued = cur.fetchone()
        finally:
            conn.close()
        return {"pages_per_s": r["responses"] / r["elapsed"], "queued": queued, "by_ranker": by_ranker}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--skip-crawl", action="store_true")
    parser.add_argument("--crawl-only", action="store_true")
    parser.add_argument("--train-once", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--unlabelled", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--use", default="none", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.train_once:
        print(json.dumps(train_once(args.train_once, args.unlabelled, args.use)))
        return 0
    sizes = [] if args.crawl_only else [int(s) for s in args.sizes.split(",")]
    print(f"texts: {corpus(10)[2]}; one thread (OMP/BLAS), this machine: {os.cpu_count()} cores")
    print("\ntraining (5- or 3-fold cross-validation, with and without the keyword facts, of the prior weight and the "
          "keyword fallback, then the final fit):")
    print(f"{'decisions':>10s} {'prepare s':>10s} {'train s':>8s} {'peak MB':>8s} {'model MB':>9s} {'features':>9s} "
          f"{'folds':>6s}")
    for n in sizes:
        done = subprocess.run([sys.executable, __file__, "--train-once", str(n)], capture_output=True, text=True)
        if done.returncode != 0:
            print(f"{n:>10d} failed: {done.stderr.strip().splitlines()[-1]}")
            continue
        r = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"{r['decisions']:>10d} {r['prepare_s']:>10.1f} {r['train_s']:>8.1f} {r['peak_mb']:>8.0f} {r['model_mb']:>9.2f} "
              f"{r['features']:>9d} {r['folds']:>6d}")
    if 10_000 in sizes:
        print("\n10,000 decisions plus 100,000 undecided listings (what the trainer may do with them; production: "
              f"{PRODUCTION_USE}, of the newest {MAX_UNLABELLED:,}):")
        print(f"{'use':>14s} {'prepare s':>10s} {'train s':>8s} {'peak MB':>8s} {'model MB':>9s} {'features':>9s}")
        for use in UNLABELLED_USES:
            done = subprocess.run([sys.executable, __file__, "--train-once", "10000", "--unlabelled", "100000",
                                   "--use", use], capture_output=True, text=True)
            if done.returncode != 0:
                print(f"{use:>14s} failed: {done.stderr.strip().splitlines()[-1]}")
                continue
            r = json.loads(done.stdout.strip().splitlines()[-1])
            print(f"{use:>14s} {r['prepare_s']:>10.1f} {r['train_s']:>8.1f} {r['peak_mb']:>8.0f} {r['model_mb']:>9.2f} "
                  f"{r['features']:>9d}")
    print("\nscoring marketplace-like listings, listings/s on one core (model trained on 10k decisions, with topics):")
    print(f"{'listings':>10s} {'keyword matcher':>16s} {'ranker, one by one':>19s} {'ranker, batches':>16s}")
    for r in scoring(sizes) if sizes else []:
        print(f"{r['listings']:>10d} {r['matcher_per_s']:>16,.0f} {r['single_per_s']:>19,.0f} {r['batch_per_s']:>16,.0f}")
    if not args.skip_crawl:
        print("\ncrawl pipeline, 2,000-listing demo marketplace, no latency (CPU-bound), runs alternating:")
        runs = {False: [], True: []}
        for with_model in (False, True, False, True):
            r = crawl_pages_per_s(with_model)
            runs[with_model].append(r)
            print(f"  {'with an active model' if with_model else 'without a model':22s} {r['pages_per_s']:6.1f} pages/s, "
                  f"{r['queued']} queued ({r['by_ranker']} by the ranker alone)")
        mean = {k: sum(x["pages_per_s"] for x in v) / len(v) for k, v in runs.items()}
        print(f"  mean of two: {mean[False]:.1f} vs {mean[True]:.1f} pages/s ({mean[True] / mean[False] - 1:+.1%}; "
              "run to run the same crawl varies by 10% or more here)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
