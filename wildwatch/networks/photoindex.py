"""Near-duplicate look-up over 64-bit perceptual hashes without comparing all pairs: multi-index hashing
(Norouzi et al., 2012). Each hash is cut into four 16-bit chunks, each chunk indexed by value; two hashes
within Hamming distance r share at least one chunk within r // 4 bits (pigeonhole), so a query probes every
chunk value within that small radius and checks only the candidates found there."""
from __future__ import annotations

from itertools import combinations

import numpy as np

CHUNKS = 4
BITS = 16


def _flips(radius: int) -> np.ndarray:
    """Every 16-bit mask with at most `radius` bits set."""
    masks = [0]
    for k in range(1, radius + 1):
        masks += [sum(1 << b for b in bits) for bits in combinations(range(BITS), k)]
    return np.array(masks, dtype=np.uint64)


class PhotoIndex:
    def __init__(self, hashes: np.ndarray):
        self.hashes = np.ascontiguousarray(hashes, dtype=np.uint64)
        self.order, self.sorted = [], []
        for c in range(CHUNKS):
            chunk = (self.hashes >> np.uint64(BITS * c)) & np.uint64(0xFFFF)
            order = np.argsort(chunk, kind="stable")
            self.order.append(order)
            self.sorted.append(chunk[order])

    def __len__(self) -> int:
        return len(self.hashes)

    def query(self, value: int, radius: int) -> tuple[np.ndarray, np.ndarray]:
        """(positions, distances) of every indexed hash within `radius` bits of `value`, nearest first."""
        flips = _flips(radius // CHUNKS)
        q = np.uint64(value)
        candidates = []
        for c in range(CHUNKS):
            probes = ((q >> np.uint64(BITS * c)) & np.uint64(0xFFFF)) ^ flips
            lo = np.searchsorted(self.sorted[c], probes, side="left")
            hi = np.searchsorted(self.sorted[c], probes, side="right")
            for a, b in zip(lo.tolist(), hi.tolist(), strict=True):
                if b > a:
                    candidates.append(self.order[c][a:b])
        if not candidates:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
        found = np.unique(np.concatenate(candidates))
        distance = np.bitwise_count(self.hashes[found] ^ q).astype(np.int64)
        keep = distance <= radius
        found, distance = found[keep], distance[keep]
        nearest = np.argsort(distance, kind="stable")
        return found[nearest], distance[nearest]
