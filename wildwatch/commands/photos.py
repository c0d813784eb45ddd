"""`wildwatch photos read`: the text written on candidates' photos (wildwatch/photo_text.py), for photos a
survey's budget left unread or kept before OCR existed."""
from __future__ import annotations

from wildwatch.commands import with_db


def cmd_read(args, settings) -> int:
    from wildwatch import photo_text
    from wildwatch.evidence.store import open_store
    from wildwatch.networks import store as networks

    def work(conn):
        done = photo_text.read_pending(conn, open_store(settings.evidence_store), args.run, args.limit,
                                       args.budget_seconds)
        if done["contacts"]:
            networks.rebuild(conn)
        return done
    done = with_db(settings, work)
    per = f", {done['ms'] // max(done['photos'], 1)} ms a photo" if done["photos"] else ""
    print(f"{done['photos']} photos read ({done['with_text']} with text, {done['failed']} unreadable{per}); "
          f"{done['contacts']} contacts on {done['listings']} listings" +
          (f"; {done['left']} left for the next run" if done["left"] else ""))
    return 0


def register(sub) -> None:
    p = sub.add_parser("photos", help="candidates' photos")
    psub = p.add_subparsers(dest="photos_action", required=True)
    r = psub.add_parser("read", help="read the text written on candidates' photos not read yet; relink networks")
    r.add_argument("--run", type=int, help="only this run's candidates (crawl_runs id)")
    r.add_argument("--limit", type=int, default=100_000)
    r.add_argument("--budget-seconds", type=float, help="stop after this long (one core)")
    r.set_defaults(func=cmd_read)
