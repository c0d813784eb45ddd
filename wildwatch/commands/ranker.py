"""`wildwatch ranker ...`: train, list, activate (rollback) and evaluate the model that orders the queue."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from wildwatch.commands import SKIP_HELP, who


def _sizes(value: str) -> list[int]:
    try:
        sizes = [int(v) for v in value.split(",") if v.strip()]
    except ValueError:
        raise ValueError(f"--labels takes numbers separated by commas, got {value!r}") from None
    if not sizes:
        raise ValueError("--labels is empty")
    return sizes


def cmd_evaluate(args, settings) -> int:
    from wildwatch import keywords, matching
    from wildwatch.ranker import offline

    try:
        sizes = _sizes(args.labels)
        data = offline.read_csv(args.input, args.text_column, args.label_column, args.skip_unlabelled)
        matcher = matching.Matcher(keywords.load(settings.keywords_dir))
        share = settings.ranker_active_share if args.active_share is None else args.active_share
        if not 0 <= share <= 1:  # NaN too
            raise ValueError(f"--active-share is a share of each batch, in [0, 1], not {share}")
        young = settings.ranker_active_young if args.active_young is None else args.active_young
        if young < 0:
            raise ValueError(f"--active-young is a number of decisions (0 or more), not {young}")
        result = offline.learning_curve(data, sizes, args.repeats, args.seed, matcher, strategy=args.strategy,
                                        active_share=share, unlabelled=args.unlabelled, active_young=young)
    except (offline.InputError, ValueError) as exc:
        print(f"wildwatch: {exc}", file=sys.stderr)
        return 2
    if args.json and result["skipped"]:  # the JSON keeps its documented shape; the count goes to stderr
        print(f"wildwatch: {result['skipped']} rows without a label left out", file=sys.stderr)
    print(json.dumps(offline.as_json(result)) if args.json else offline.as_text(result, args.repeats))
    return 0


def _connect(settings):
    from wildwatch import db

    url = db.ready(settings)
    return db.connect(url)


def cmd_train(args, settings) -> int:
    from wildwatch.ranker import registry

    conn = _connect(settings)
    try:
        try:
            saved = registry.train_and_save(conn, user=who(args), activate=args.activate)
        except registry.NotEnoughDecisions as exc:
            print(f"wildwatch: {exc}", file=sys.stderr)
            return 1
    finally:
        conn.close()
    print(registry.describe(saved))
    if saved["active"]:
        print(f"model {saved['version']} is active; {saved.get('rescored', 0)} pending queue items re-scored")
    else:
        print(f"model {saved['version']} saved, not active (`wildwatch ranker activate {saved['version']}`)")
    return 0


def cmd_list(args, settings) -> int:
    from wildwatch.ranker import registry

    conn = _connect(settings)
    try:
        rows = registry.list_models(conn)
    finally:
        conn.close()
    if args.json:
        print(json.dumps(rows, default=str, indent=1))
        return 0
    if not rows:
        print("no ranker models yet: the keyword score orders the queue (`wildwatch ranker train`)")
        return 0
    for row in rows:
        print(registry.describe(row))
    return 0


def cmd_activate(args, settings) -> int:
    from wildwatch.ranker import registry

    conn = _connect(settings)
    try:
        try:
            done = registry.activate(conn, args.version, user=who(args))
        except registry.UnknownModel as exc:
            print(f"wildwatch: {exc}", file=sys.stderr)
            return 1
    finally:
        conn.close()
    print(f"model {args.version} is active; {done['rescored']} pending queue items re-scored")
    return 0


def register(sub) -> None:
    p = sub.add_parser("ranker", help="the model that learns from review decisions and orders the queue")
    rsub = p.add_subparsers(dest="ranker_action", required=True)
    user = None

    t = rsub.add_parser("train", help="train a model on every review decision so far (audited)")
    t.add_argument("--activate", action="store_true", help="make it the active model and re-score the queue")
    t.add_argument("--user", default=user, help="who is recorded in the audit log (default: the login name)")
    t.set_defaults(func=cmd_train)

    lst = rsub.add_parser("list", help="models, their figures and which one is active")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(func=cmd_list)

    a = rsub.add_parser("activate", help="make a model the active one (also to roll back); audited")
    a.add_argument("version", type=int)
    a.add_argument("--user", default=user, help="who is recorded in the audit log (default: the login name)")
    a.set_defaults(func=cmd_activate)

    e = rsub.add_parser("evaluate", help="learning curve on a labelled CSV: ranker vs keyword score vs random")
    e.add_argument("--input", type=Path, required=True)
    e.add_argument("--text-column", required=True)
    e.add_argument("--label-column", required=True, help="1 = an offer the queue should show, 0 = not")
    e.add_argument("--skip-unlabelled", action="store_true", help=SKIP_HELP)
    e.add_argument("--labels", default="50,100,200,400", help="numbers of labelled rows to learn from")
    e.add_argument("--repeats", type=int, default=5)
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--strategy", choices=("random", "queue", "active"), default="random",
                   help="how the labels are chosen: at random; as a team working the queue in score order; or the "
                        "queue with a share of active-learning picks (--active-share)")
    e.add_argument("--active-share", type=float, default=None,
                   help="active: the least share of each batch the model is least sure of, once it has learnt "
                        "from --active-young decisions (default WILDWATCH_RANKER_ACTIVE_SHARE)")
    e.add_argument("--active-young", type=int, default=None,
                   help="active: decisions until the share falls to --active-share; before, 1 - decisions/young "
                        "(default WILDWATCH_RANKER_ACTIVE_YOUNG; 0: the share from the start)")
    e.add_argument("--unlabelled", choices=("topics", "none", "vocabulary", "self-training"),
                   default="topics", help="what the trainer does with the undecided rest of the pool (topics: as in "
                                          "production; none: nothing; the others were measured and dropped, see README)")
    e.add_argument("--json", action="store_true")
    e.set_defaults(func=cmd_evaluate)
