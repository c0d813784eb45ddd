"""Seller networks as connected components: listings are joined by every key they share (a normalised
contact, a seller account on one platform). Pure functions over arrays, so a million listings link in seconds
(bench/linking.py) and the database code stays a loader and a writer.

Network ids are stable: a component keeps the oldest id among its members' previous networks, so a network
that grows keeps its id; networks it swallowed record where they went.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components


def components(listing_index: np.ndarray, key_index: np.ndarray, n_listings: int, n_keys: int) -> np.ndarray:
    """Component label per listing, from (listing, key) pairs: a bipartite graph listing-key."""
    n = n_listings + n_keys
    ones = np.ones(len(listing_index), dtype=np.int8)
    graph = coo_matrix((ones, (listing_index, n_listings + key_index)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    return labels[:n_listings]


@dataclass
class Assignment:
    network_of: dict[int, int]                                 # listing id -> network id
    new_ids: list[int] = field(default_factory=list)           # networks created in this pass
    merged: dict[int, int] = field(default_factory=dict)       # absorbed network id -> the one that took it
    dissolved: list[int] = field(default_factory=list)         # previous networks with no listings left


def link(pairs: list[tuple[int, str]], previous: dict[int, int], next_id: int, min_size: int = 2) -> Assignment:
    """Listings (ids) joined by shared keys into networks of at least `min_size` listings.

    previous: listing id -> network id from the last pass; next_id: the first id free for new networks."""
    if not pairs:
        return Assignment({}, dissolved=sorted(set(previous.values())))
    ids = np.fromiter((p[0] for p in pairs), dtype=np.int64, count=len(pairs))
    keys = np.array([p[1] for p in pairs], dtype=object)
    listing_ids, listing_index = np.unique(ids, return_inverse=True)
    _, key_index = np.unique(keys, return_inverse=True)
    labels = components(listing_index, key_index, len(listing_ids), int(key_index.max()) + 1)
    return assign(listing_ids, labels, previous, next_id, min_size)


def assign(listing_ids: np.ndarray, labels: np.ndarray, previous: dict[int, int], next_id: int,
           min_size: int = 2) -> Assignment:
    order = np.argsort(labels, kind="stable")
    sorted_labels = labels[order]
    bounds = np.flatnonzero(np.diff(sorted_labels)) + 1
    groups = np.split(listing_ids[order], bounds)
    out = Assignment({})
    taken: set[int] = set()
    # Largest components choose first, so a network that split keeps its id in its biggest part.
    for members in sorted(groups, key=len, reverse=True):
        if len(members) < min_size:
            continue
        before = sorted({previous[m] for m in members.tolist() if m in previous} - taken)
        if before:
            network = before[0]
            for other in before[1:]:
                out.merged[other] = network
            taken.update(before)
        else:
            network = next_id
            next_id += 1
            out.new_ids.append(network)
            taken.add(network)
        for m in members.tolist():
            out.network_of[m] = network
    out.dissolved = sorted(set(previous.values()) - taken)
    return out
