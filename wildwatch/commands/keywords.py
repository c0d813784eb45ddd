"""`wildwatch keywords`: import CITES names into the keyword lists; measure the lists on a labelled CSV."""
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
                                   skip_unlabelled=args.skip_unlabelled)
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
    for title, key in (("worst false positives", "worst_false_positives"),
                       ("worst false negatives", "worst_false_negatives")):
        print(f"\n{title}:")
        for r in result[key] or [{"text": "none", "score": "", "reasons": []}]:
            print(f"  {r['score']!s:>5}  {r['text']}")
            for why in r["reasons"][:3]:
                print(f"         {why}")
    return 0


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
    k.add_argument("--worst", type=int, default=10, help="how many false positives/negatives to list")
    k.add_argument("--json", action="store_true")
    k.set_defaults(func=cmd_keywords_evaluate)
