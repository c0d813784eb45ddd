"""Seller-network costs at a million listings, in one run of this script:

1. contact extraction (wildwatch/contacts.py) on synthetic listing texts carrying phones in their disguises,
   messenger IDs, e-mails and decoy numbers: texts/s on one core, and the time that makes for 1,000,000;
2. clustering 1,000,000 synthetic listings (wildwatch/networks/link.py: shared contacts and seller accounts,
   as the rebuild does) from scratch, then again with last month's ids to keep (stable ids): seconds and
   peak memory (each in its own process), and a check that the planted networks come out exactly;
3. near-duplicate photo look-up over 1,000,000 64-bit hashes (wildwatch/networks/photoindex.py): build time,
   look-up time per query at the near-duplicate radius, and recall of planted copies.

Run: .venv/bin/python bench/linking.py [--listings 1000000] [--extract 50000]
"""
from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from wildwatch import contacts  # noqa: E402
from wildwatch.networks.link import link  # noqa: E402
from wildwatch.networks.photoindex import PhotoIndex  # noqa: E402

SPELLED = ["sifuri", "moja", "mbili", "tatu", "nne", "tano", "sita", "saba", "nane", "tisa"]


def synthetic_text(rng: random.Random) -> tuple[str, str]:
    digits = "7" + "".join(rng.choice("0123456789") for _ in range(8))
    form = rng.randrange(7)
    if form == 0:
        contact = f"simu 0{digits[:3]} {digits[3:6]} {digits[6:]}"
    elif form == 1:
        contact = f"WhatsApp +255{digits}"
    elif form == 2:
        contact = "simu " + " ".join(SPELLED[int(d)] for d in "0" + digits)
    elif form == 3:
        contact = "tel " + ".".join("0" + digits)
    elif form == 4:
        contact = f"微信: seller_{rng.randrange(10**6)}"
    elif form == 5:
        contact = f"mail juma{rng.randrange(10**4)} (at) gmail dot com"
    else:
        contact = f"Bei {rng.randrange(10**4, 10**7)} TSh, tarehe 2026-{rng.randrange(1, 13):02d}-03"
    body = rng.choice(["Pembe za ndovu halisi, bei nafuu.", "Carved ivory bangle, old stock, genuine.",
                       "Ngozi ya chui, mita mbili.", "Dried pangolin scales, bulk available, serious buyers."])
    return f"{body} {contact}", "TZ"


def bench_extraction(n: int) -> dict:
    rng = random.Random(1)
    texts = [synthetic_text(rng) for _ in range(n)]
    started = time.perf_counter()
    found = sum(len(contacts.extract(t, "description", region, "sw")) for t, region in texts)
    seconds = time.perf_counter() - started
    return {"texts": n, "seconds": round(seconds, 2), "texts_per_s": round(n / seconds),
            "contacts_found": found, "projected_1M_s": round(1_000_000 / (n / seconds))}


def synthetic_pairs(n: int, seed: int = 2) -> tuple[list[tuple[int, str]], np.ndarray]:
    """n listings in planted networks: each network has 1-3 contacts and 1-4 accounts, sizes skewed (most
    sellers post once, a few post hundreds). Returns (listing, key) pairs and each listing's true network."""
    rng = np.random.default_rng(seed)
    sizes = np.minimum(rng.zipf(2.0, size=n), 500)
    sizes = sizes[np.cumsum(sizes) <= n]
    sizes = np.append(sizes, n - sizes.sum()) if sizes.sum() < n else sizes
    truth = np.repeat(np.arange(len(sizes)), sizes)
    pairs = []
    listing = 0
    for network, size in enumerate(sizes.tolist()):
        keys = [f"phone:+2557{network:08d}"] if rng.random() < 0.7 else []
        if rng.random() < 0.3:
            keys.append(f"wechat:seller_{network}")
        accounts = [f"seller:{rng.integers(1, 40)}:/u/{network}-{a}" for a in range(1 + int(rng.integers(0, 4)))]
        if not keys:
            accounts = accounts[:1]  # a seller without contacts is linked by one account only
        for i in range(size):
            if i < len(accounts):  # each account's first listing shows the network's first contact: all chain
                own = [accounts[i]] + keys[:1]
            else:
                own = [accounts[int(rng.integers(0, len(accounts)))]]
                if keys and rng.random() < 0.8:
                    own.append(keys[int(rng.integers(0, len(keys)))])
            pairs.extend((listing, k) for k in own)
            listing += 1
    return pairs, truth


def child_cluster(n: int) -> dict:
    pairs, truth = synthetic_pairs(n)
    started = time.perf_counter()
    first = link(pairs, {}, next_id=1)
    scratch_s = time.perf_counter() - started
    started = time.perf_counter()
    again = link(pairs, first.network_of, next_id=len(first.new_ids) + 1)
    stable_s = time.perf_counter() - started
    # a planted network is linked exactly when the clustering's partition equals the truth on linked listings
    ids = np.fromiter(first.network_of.keys(), dtype=np.int64)
    got = np.fromiter(first.network_of.values(), dtype=np.int64)
    pairs_truth = set(zip(truth[ids].tolist(), got.tolist(), strict=True))
    sizes = np.bincount(truth)
    exact = (len(pairs_truth) == len(set(got.tolist())) == len(set(truth[ids].tolist()))
             and len(ids) == int(sizes[sizes > 1].sum()))
    singletons = int(np.sum(np.bincount(truth) == 1))
    return {"listings": n, "keys": len(pairs), "networks": len(set(got.tolist())), "listings_linked": len(ids),
            "single_listing_sellers": singletons, "scratch_s": round(scratch_s, 2), "stable_ids_s": round(stable_s, 2),
            "ids_kept": again.new_ids == [] and again.merged == {}, "planted_networks_exact": exact,
            "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def bench_clustering(n: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child-cluster", str(n)], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout)


def bench_photos(n: int, queries: int = 1000, radius: int = 10) -> dict:
    rng = np.random.default_rng(3)
    hashes = rng.integers(0, 2**63, size=n, dtype=np.int64).astype(np.uint64) << np.uint64(1)
    hashes |= rng.integers(0, 2, size=n).astype(np.uint64)
    started = time.perf_counter()
    index = PhotoIndex(hashes)
    build_s = time.perf_counter() - started
    targets = rng.choice(n, size=queries, replace=False)
    times, found = [], 0
    for t in targets.tolist():
        flips = rng.choice(64, size=int(rng.integers(0, radius + 1)), replace=False)
        q = int(hashes[t])
        for b in flips.tolist():
            q ^= 1 << b
        started = time.perf_counter()
        positions, _ = index.query(q, radius)
        times.append(time.perf_counter() - started)
        found += int(t in set(positions.tolist()))
    ms = np.array(times) * 1000
    return {"hashes": n, "radius": radius, "build_s": round(build_s, 2), "queries": queries,
            "mean_ms": round(float(ms.mean()), 2), "p99_ms": round(float(np.percentile(ms, 99)), 2),
            "recall": found / queries}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--listings", type=int, default=1_000_000)
    parser.add_argument("--extract", type=int, default=50_000)
    parser.add_argument("--child-cluster", type=int)
    args = parser.parse_args()
    if args.child_cluster:
        print(json.dumps(child_cluster(args.child_cluster)))
        return
    print("contact extraction:", json.dumps(bench_extraction(args.extract)))
    print("clustering:", json.dumps(bench_clustering(args.listings)))
    print("photo look-up:", json.dumps(bench_photos(args.listings)))


if __name__ == "__main__":
    main()
