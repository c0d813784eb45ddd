"""The `wildwatch` command: one module per command group in wildwatch/commands/, wired here."""
from __future__ import annotations

import argparse
import sys

from wildwatch import config, db
from wildwatch.commands import (backup, db as db_commands, demo, evidence, hand, keywords, photos, queue, ranker,
                                report, runs, sellers, services, sites, users)
from wildwatch.commands import fail

# The order of `wildwatch --help`.
GROUPS = (db_commands, demo, queue, keywords, sites, services, report, evidence, backup, ranker, users, hand, photos,
          sellers, runs)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wildwatch", description="wildwatch finds illegal wildlife products "
                                     "offered for sale online: surveys, review, referrals, reports.")
    sub = parser.add_subparsers(dest="command", required=True)
    for group in GROUPS:
        group.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = config.load()
        return args.func(args, settings) or 0
    except (config.ConfigError, db.DatabaseUnavailable) as exc:
        return fail(str(exc))
    except BrokenPipeError:
        # `wildwatch queue list | head`: the reader left; end quietly (and keep Python's exit flush quiet too).
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # noqa: BLE001 - known operational errors get one line, not a trace
        from wildwatch.localpg import LocalPgError
        from wildwatch.sites import SiteError
        from wildwatch.keywords import KeywordError

        if isinstance(exc, (LocalPgError, SiteError, KeywordError)):
            return fail(str(exc))
        raise


if __name__ == "__main__":
    sys.exit(main())
