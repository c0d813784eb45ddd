"""`wildwatch keywords`: import CITES names into the keyword lists; measure the lists on a labelled CSV and on
the real wording of saved pages."""
from __future__ import annotations

import json
from pathlib import Path

from wildwatch.commands import SKIP_HELP, fail


def cmd_keywords_import_cites(args, settings) -> int:
    from wildwatch import cites, keywords

    counts = cites.import_index(args.path, settings.keywords_dir)
    kb = keywords.load(settings.keywords_dir)  # fails loudly if the import wrote something invalid
    for group, n in sorted(counts.items()):
        print(f"{group:14s} {n:6d} names")
    print(f"{sum(counts.values())} names written to {settings.keywords_dir / keywords.CITES_DIR}; "
          f"{len(kb.terms)} terms in the knowledge base")
    return 0


def cmd_keywords_evaluate(args, settings) -> int:
    from wildwatch import evaluate, keywords, matching

    matcher = matching.Matcher(keywords.load(settings.keywords_dir))
    try:
        result = evaluate.evaluate(matcher, args.input, args.text_column, args.label_column,
                                   settings.queue_threshold, group=args.group, worst=args.worst,
                                   skip_unlabelled=args.skip_unlabelled, by=args.by)
    except (OSError, ValueError) as exc:
        return fail(str(exc))
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=1))
        return 0
    scope = f" (group {args.group})" if args.group else ""
    skipped = f" ({result['skipped_unlabelled']} rows without a label left out)" if result["skipped_unlabelled"] else ""
    print(f"{result['rows']} texts, {result['positives']} positive{scope}; threshold {result['threshold']}{skipped}")
    print(f"precision {result['precision']:.3f}  recall {result['recall']:.3f}  F1 {result['f1']:.3f}  "
          f"(TP {result['true_positives']}, FP {result['false_positives']}, FN {result['false_negatives']})")
    for column, split in result["by"].items():
        print(f"\n{column:>16} {'texts':>6} {'offers':>6} {'precision':>9} {'recall':>6} {'TP':>5} {'FP':>5} {'FN':>5}")
        for value, c in split.items():
            print(f"{_printable(value or '(none)')[:16]:>16} {c['rows']:>6} {c['positives']:>6} {c['precision']:>9.3f} "
                  f"{c['recall']:>6.3f} {c['true_positives']:>5} {c['false_positives']:>5} {c['false_negatives']:>5}")
    for title, key in (("worst false positives", "worst_false_positives"),
                       ("worst false negatives", "worst_false_negatives")):
        print(f"\n{title}:")
        for r in result[key] or [{"text": "none", "score": "", "reasons": []}]:
            print(f"  {r['score']!s:>5}  {_printable(r['text'])}")
            for why in r["reasons"][:3]:
                print(f"         {_printable(why)}")
    return 0


def cmd_keywords_scan(args, settings) -> int:
    from wildwatch import keywords, matching, realscan, realtext

    folder = args.folder or settings.realdata_dir
    if not folder.is_dir():
        return fail(f"{folder}: no such folder of saved pages (set WILDWATCH_REALDATA or name one)")
    try:
        reviews = realscan.read_reviews(args.labels)
    except realscan.LabelsError as exc:
        return fail(str(exc))
    matcher = matching.Matcher(keywords.load(settings.keywords_dir))
    # The labels name pages from the realdata folder: a part of it (one country's pages) is scanned against them.
    root = settings.realdata_dir.resolve()
    folder = folder.resolve()
    if not folder.is_relative_to(root):
        root = folder
    result = {**realscan.scan(matcher, root, reviews, settings.queue_threshold, pages=realtext.pages(folder)),
              "folder": str(folder)}
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=1))
    else:
        _print_scan(result)
    return 1 if result["unreviewed"] and args.strict else 0


def _printable(text: str) -> str:
    """A page's text on a terminal: control characters (an escape sequence in a hostile page) shown, not run."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _print_scan(result: dict) -> None:
    total = result["total"]
    print(f"{result['folder']}: {result['pages']} pages, {total.get('texts', 0)} texts; "
          f"threshold {result['threshold']}")
    print(f"{'language':>8} {'texts':>7} {'matched':>7} {'flagged':>7} {'offers':>9} {'false alarms':>12} "
          f"{'unreviewed':>10}")
    rows = list(result["languages"].items()) + [("all", total)]
    for lang, c in rows:
        offers = f"{c.get('offers_found', 0)}/{c.get('offers', 0)}"
        print(f"{lang:>8} {c.get('texts', 0):>7} {c.get('matched', 0):>7} {c.get('flagged', 0):>7} {offers:>9} "
              f"{c.get('false_alarms', 0):>12} {c.get('unreviewed', 0):>10}")
    for title, key in (("offers missed", "offers_missed"), ("false alarms (reviewed)", "false_alarms"),
                       ("flagged, not yet reviewed: add each to the labels file", "unreviewed")):
        if result[key]:
            print(f"\n{title}:")
            for r in result[key]:
                print(f"  {r['score']:>5}  {r['language']:>3}  {r['source']} {r['text_key']}  {r['text'][:100]!r}")
                for why in r["reasons"][:2]:
                    print(f"                {_printable(why)}")
    for page in result["skipped_pages"]:
        print(f"skipped {page['source']}: {_printable(page['reason'])}")
    if result["stale_reviews"]:
        print(f"\nreviewed texts no longer found ({len(result['stale_reviews'])}): " +
              ", ".join(result["stale_reviews"][:10]))


def register(sub) -> None:
    p = sub.add_parser("keywords", help="the keyword knowledge base")
    ksub = p.add_subparsers(dest="keywords_action", required=True)
    k = ksub.add_parser("import-cites", help="add CITES scientific, synonym and common names to the groups")
    k.add_argument("path", type=Path, help="Species+ 'Index of CITES species' export (.csv or .csv.gz)")
    k.set_defaults(func=cmd_keywords_import_cites)

    k = ksub.add_parser("evaluate", help="precision and recall of 'would be queued' on a labelled CSV")
    k.add_argument("--input", type=Path, required=True)
    k.add_argument("--text-column", required=True)
    k.add_argument("--label-column", required=True, help="0/1: 1 when the text should be queued")
    k.add_argument("--skip-unlabelled", action="store_true", help=SKIP_HELP)
    k.add_argument("--group", help="only this product group's terms and offers")
    k.add_argument("--by", metavar="COLUMN", help="precision and recall per value of this column too (language, "
                                                   "group, site...)")
    k.add_argument("--worst", type=int, default=10, help="how many false positives/negatives to list")
    k.add_argument("--json", action="store_true")
    k.set_defaults(func=cmd_keywords_evaluate)

    k = ksub.add_parser("scan", help="the lists on every text of a folder of saved real pages, against the "
                                     "reviewed hits")
    k.add_argument("folder", type=Path, nargs="?", help="saved pages (.html, .json, .js, gzipped or not); "
                                                        "default: WILDWATCH_REALDATA")
    k.add_argument("--labels", type=Path, default=Path("keywords/eval/realdata.csv"),
                   help="the reviewed real texts (source, text_key, label, group, note)")
    k.add_argument("--strict", action="store_true", help="exit 1 when a flagged text is not yet reviewed")
    k.add_argument("--json", action="store_true")
    k.set_defaults(func=cmd_keywords_scan)
