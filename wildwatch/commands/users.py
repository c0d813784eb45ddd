"""`wildwatch users ...`: review-app accounts and their sessions. Every change is audited under --user (or the
login name); disabling, a role change and a new password end the account's sessions at once."""
from __future__ import annotations

import sys

from wildwatch.commands import fail, who, with_db


def _password(name: str) -> str | None:
    import getpass

    if sys.stdin.isatty():
        password = getpass.getpass(f"password for {name}: ")
        if getpass.getpass("again: ") != password:
            return None
        return password
    return sys.stdin.readline().rstrip("\n")


def _change(settings, work) -> object:
    def run(conn):
        with conn:
            return work(conn)
    return with_db(settings, run)


def cmd_add(args, settings) -> int:
    from wildwatch.review import accounts

    password = _password(args.name)
    if password is None:
        return fail("the two passwords differ")
    try:
        _change(settings, lambda conn: accounts.add_user(conn, args.name, args.role, password, by=who(args)))
    except accounts.AccountError as exc:
        return fail(str(exc))
    print(f"user {args.name} ({args.role}) added")
    return 0


def cmd_list(args, settings) -> int:
    from wildwatch.review import accounts

    rows = with_db(settings, accounts.list_users)
    print(f"{'name':<20} {'role':<10} {'state':<8} last seen")
    for r in rows:
        print(f"{r['name']:<20} {r['role']:<10} {'disabled' if r['disabled'] else 'active':<8} "
              f"{r['last_seen'] or '-'}")
    return 0


def _account_change(settings, work, said) -> int:
    """work(conn) in one transaction; `said(result)` is the line printed (an AccountError: one line on stderr)."""
    from wildwatch.review import accounts

    try:
        result = _change(settings, work)
    except accounts.AccountError as exc:
        return fail(str(exc))
    print(said(result))
    return 0


def cmd_disable(args, settings) -> int:
    from wildwatch.review import accounts

    return _account_change(settings, lambda conn: accounts.set_disabled(conn, args.name, True, by=who(args)),
                           lambda ended: f"user {args.name} disabled; {ended} session(s) ended")


def cmd_enable(args, settings) -> int:
    from wildwatch.review import accounts

    return _account_change(settings, lambda conn: accounts.set_disabled(conn, args.name, False, by=who(args)),
                           lambda _: f"user {args.name} enabled")


def cmd_role(args, settings) -> int:
    from wildwatch.review import accounts

    return _account_change(settings, lambda conn: accounts.set_role(conn, args.name, args.role, by=who(args)),
                           lambda ended: f"user {args.name} is now {args.role}; {ended} session(s) ended")


def cmd_password(args, settings) -> int:
    from wildwatch.review import accounts

    password = _password(args.name)
    if password is None:
        return fail("the two passwords differ")
    return _account_change(settings, lambda conn: accounts.set_password(conn, args.name, password, by=who(args)),
                           lambda ended: f"password of {args.name} changed; {ended} session(s) ended")


def cmd_sessions(args, settings) -> int:
    from wildwatch.review import sessions
    from wildwatch.review import settings as review_settings

    limits = review_settings.lifetimes()
    rows = with_db(settings, lambda conn: sessions.active(conn, *limits, name=args.name))
    if not rows:
        print("no open sessions")
        return 0
    print(f"{'session':<13} {'user':<16} {'role':<10} {'started':<20} {'last seen':<20} address")
    for r in rows:
        print(f"{r['session']:<13} {r['user']:<16} {r['role']:<10} {r['started']:%Y-%m-%d %H:%M:%S}  "
              f"{r['last_seen']:%Y-%m-%d %H:%M:%S}  {r['address'] or '-'}")
    return 0


def cmd_end_sessions(args, settings) -> int:
    from wildwatch.review import accounts

    return _account_change(settings, lambda conn: accounts.end_sessions(conn, args.name, by=who(args)),
                           lambda ended: f"sessions of {args.name}; {ended} session(s) ended")


def register(sub) -> None:
    p = sub.add_parser("users", help="review-app accounts and their sessions")
    usub = p.add_subparsers(dest="users_action", required=True)

    def command(name: str, func, help_text: str, role: bool = False, name_arg: str | None = "name"):
        c = usub.add_parser(name, help=help_text)
        if name_arg == "name":
            c.add_argument("name")
        elif name_arg == "optional":
            c.add_argument("name", nargs="?", help="only this user's")
        if role:
            c.add_argument("--role", required=True, choices=["analyst", "supervisor", "admin"])
        c.add_argument("--user", help="who is recorded in the audit log (default: the login name)")
        c.set_defaults(func=func)

    command("add", cmd_add, "add a user; the password is prompted for, or read from stdin", role=True)
    command("list", cmd_list, "every account, its role and state", name_arg=None)
    command("disable", cmd_disable, "disable an account: its sessions end at once")
    command("enable", cmd_enable, "enable a disabled account")
    command("role", cmd_role, "change an account's role: its sessions end at once", role=True)
    command("password", cmd_password, "set a new password (prompted, or from stdin): the sessions end at once")
    command("sessions", cmd_sessions, "open review sessions: who, since when, last seen, from where",
            name_arg="optional")
    command("end-sessions", cmd_end_sessions, "end every session of an account (a lost laptop, a copied cookie)")
