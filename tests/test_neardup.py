"""Near-duplicate grouping of a queue page: the fast all-pairs pass (a matrix product, photos compared at once)
groups exactly as comparing every pair of rows one by one does."""
import random

from wildwatch.review import neardup

WORDS = ["vòng", "ngà", "voi", "thật", "象牙", "雕刻", "pembe", "ya", "ndovu", "perroquet", "gris", "gabon", "bracelet",
         "ivoire", "giá", "tốt", "hàng", "đẹp", "熊胆粉", "正品", "1", "2", "x", "!!"]


def pairwise(rows: list[dict]) -> list[list[int]]:
    """The reference: every pair compared with similar_titles and the photo rule, linked transitively."""
    keys = [neardup.compact(r["title"]) for r in rows]
    parent = list(range(len(rows)))

    def find(i):
        while parent[i] != i:
            i = parent[i]
        return i

    for i in range(len(rows)):
        for j in range(i + 1, len(rows)):
            photos = any(bin((p ^ q) & (2**64 - 1)).count("1") <= neardup.MAX_PHOTO_BITS
                         for p in rows[i].get("phashes") or [] for q in rows[j].get("phashes") or [])
            if neardup.similar_titles(keys[i], keys[j]) or photos:
                a, b = find(i), find(j)
                parent[max(a, b)] = min(a, b)
    groups: dict[int, list[int]] = {}
    for i in range(len(rows)):
        groups.setdefault(find(i), []).append(rows[i]["n"])
    return list(groups.values())


def test_grouping_equals_comparing_every_pair():
    rng = random.Random(7)
    for _ in range(30):
        rows, seen = [], []
        for n in range(rng.randrange(1, 100)):
            if seen and rng.random() < 0.4:  # a re-post: the same title, longer or shorter, or the same photo
                base = rng.choice(seen)
                title = base["title"] + rng.choice(["", " giá tốt", " 精品", "!"])
                title = title[: rng.randrange(0, len(title) + 1)] if rng.random() < 0.2 else title
                hashes = [h ^ (1 << rng.randrange(64)) for h in base["phashes"]] if rng.random() < 0.5 else []
            else:
                title = " ".join(rng.choice(WORDS) for _ in range(rng.randrange(0, 7)))
                hashes = [rng.randrange(-2**63, 2**63) for _ in range(rng.randrange(0, 3))]
            row = {"n": n, "title": title, "phashes": hashes or None}
            rows.append(row)
            seen.append({"title": title, "phashes": hashes})
        assert [[r["n"] for r in g] for g in neardup.group(rows)] == pairwise(rows)


def test_an_empty_page_and_titles_without_letters():
    assert neardup.group([]) == []
    rows = [{"title": ""}, {"title": None}, {"title": "!!!"}]
    assert [len(g) for g in neardup.group(rows)] == [1, 1, 1]
