"""`wildwatch queue list`: the pending candidates, as a table or JSON."""
from __future__ import annotations

import json

from wildwatch import db


def cmd_queue(args, settings) -> int:
    from wildwatch import queue

    with db.transaction(db.ready(settings)) as conn:  # a fresh database has an empty queue, not an error
        rows = queue.pending(conn, limit=args.limit, site=args.site)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
        return 0
    if not rows:
        print("the review queue is empty")
        return 0
    print(f"{'site':8s} {'score':>5s}  {'title':40s}  {'matched terms':30s}  url")
    for r in rows:
        print(f"{r['site']:8s} {r['score']:5.1f}  {_clip(r['title'], 40)}  {_clip(', '.join(r['terms']), 30)}  "
              f"{r['url']}")
    print(f"{len(rows)} pending")
    return 0


def _clip(text: str, width: int) -> str:
    """Pad or cut to a display width (CJK characters take two columns)."""
    import unicodedata

    out, used = "", 0
    for ch in text.replace("\n", " "):
        w = 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        if used + w > width:
            break
        out, used = out + ch, used + w
    return out + " " * (width - used)


def register(sub) -> None:
    p = sub.add_parser("queue", help="the review queue")
    qsub = p.add_subparsers(dest="queue_action", required=True)
    q = qsub.add_parser("list", help="pending candidates")
    q.add_argument("--json", action="store_true")
    q.add_argument("--site")
    q.add_argument("--limit", type=int)
    q.set_defaults(func=cmd_queue)
