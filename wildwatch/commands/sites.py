"""`wildwatch sites`: check a site file's extraction on its saved pages; start a new site file."""
from __future__ import annotations

from pathlib import Path

from wildwatch.commands import fail


def cmd_sites_check(args, settings) -> int:
    from spiders.checks import PageMissing, coverage, run_check
    from wildwatch import sites

    names = [args.name] if args.name else list(sites.site_files())
    failed = 0
    for name in names:
        site = sites.load(name)
        if not site.checks:
            print(f"{name}: no saved pages listed under checks")
            failed += 1
            continue
        for check in site.checks:
            try:
                cov = coverage(site, check)
                problems = run_check(site, check)
            except PageMissing as exc:
                # Checking every site, a page that lives outside the repository may be absent here; a site
                # asked for by name must be checked, so its missing page fails.
                print(f"{name:10s} {check['kind']:12s} {'MISSING' if args.name else 'skipped'}: {exc}")
                failed += bool(args.name)
                continue
            share = "  ".join(f"{f} {100 * v:3.0f}%" for f, v in cov["fields"].items())
            verdict = "OK" if not problems else "FAIL: " + "; ".join(problems)
            print(f"{name:10s} {check['kind']:12s} {cov['results']:4d} results  {share}  {verdict}")
            print(f"{'':10s} {check['page']}")
            failed += bool(problems)
    return 1 if failed else 0


def cmd_sites_new(args, settings) -> int:
    from wildwatch import sitegen

    try:
        written = sitegen.new_site(args.name, args.page, args.base_url, args.country, args.language, args.currency,
                                   kind=args.kind, realdata=args.realdata)
    except (OSError, ValueError) as exc:
        return fail(str(exc))
    for path in written:
        print(f"wrote {path}")
    print(f"next: fill in the selectors in {written[0].name}, then `wildwatch sites check {args.name}`")
    return 0


def register(sub) -> None:
    p = sub.add_parser("sites", help="site definitions")
    ssub = p.add_subparsers(dest="sites_action", required=True)
    c = ssub.add_parser("check", help="run a site's extraction on its saved pages and print field coverage")
    c.add_argument("name", nargs="?", help="a site (default: every site)")
    c.set_defaults(func=cmd_sites_check)

    n = ssub.add_parser("new", help="start a site file from a saved search or listing page (kept as its check)")
    n.add_argument("name")
    n.add_argument("--page", type=Path, help="a saved page (.html or .html.gz), copied into tests/fixtures/sites/NAME/")
    n.add_argument("--realdata", help="a page under shared/realdata, referenced by the check instead of copied")
    n.add_argument("--kind", choices=["search", "detail"], default="search",
                   help="a search results page (guess the result list) or a listing's own page (a detail: section)")
    n.add_argument("--base-url", required=True)
    n.add_argument("--country", required=True, help="ISO 3166 alpha-2")
    n.add_argument("--language", required=True, choices=sorted(__import__("wildwatch.keywords").keywords.LANGUAGES))
    n.add_argument("--currency", required=True)
    n.set_defaults(func=cmd_sites_new)
