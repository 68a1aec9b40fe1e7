"""The ``obsvty`` command line."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

from obsvty import __version__
from obsvty.adapters.logging import configure_logging
from obsvty.config import Settings, SettingsError, load_settings, variable_warnings
from obsvty.domain.model import Signal
from obsvty.domain.redaction import RedactionConfigError
from obsvty.ports.store import StoreError

EXIT_CONFIG = 2
EXIT_STORE = 3


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="obsvty",
        description="A privacy-first, local-first OpenTelemetry backend.",
    )
    parser.add_argument("--version", action="version", version=f"obsvty {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser(
        "serve",
        help="receive OTLP over gRPC and HTTP and store it",
        description="Receive OTLP over gRPC and HTTP and store it. Configured from the "
        "environment and .env (see .env.example).",
    )
    check = commands.add_parser(
        "check-config",
        help="validate the configuration and print the effective settings (secrets masked)",
        description="Validate the configuration (environment, .env, redaction rules) and print "
        "every effective setting, secrets masked. Exit code 0: valid, 2: invalid.",
    )
    check.add_argument("--json", action="store_true", help="print the settings as JSON")
    export = commands.add_parser(
        "export",
        help="write stored telemetry as OTLP/JSON, one export request per line",
        description="Read telemetry from a running obsvty's query API and write it to stdout as "
        "OTLP/JSON export requests, one per line (post a line to /v1/traces, /v1/logs or "
        "/v1/metrics of any OTLP/HTTP receiver to load it). Exit code 0: done, 1: failed.",
    )
    export.add_argument("--signal", required=True, choices=[s.value for s in Signal])
    export.add_argument(
        "--since",
        required=True,
        help="a duration back from now (1h, 30m), now-1h, an RFC 3339 time or unix nanoseconds",
    )
    export.add_argument("--until", default="now", help="end of the range, exclusive (default: now)")
    export.add_argument(
        "--api-url",
        default=None,
        help="the query API (default: http://127.0.0.1:$OBSVTY_API_PORT, port 8000)",
    )
    export.add_argument(
        "--token", default=None, help="a query token (default: $OBSVTY_EXPORT_TOKEN)"
    )
    _dead_letters_parser(commands)
    return parser


def _dead_letters_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    dead = commands.add_parser(
        "dead-letters",
        help="list, replay or drop the batches the store refused for good",
        description="Batches the store refused for good (FLUSH_MAX_ATTEMPTS), parked as files "
        "in STORE_DEAD_LETTER_DIR (not the cloud sync's dead letters: those are under "
        "/api/v1/admin). A replay writes to the store named by the settings (with DuckDB, "
        "while obsvty is stopped), or with --api-url through the running obsvty. Exit code 0: "
        "done, 1: something failed, 3: the store cannot be opened.",
    )
    actions = dead.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("list", help="one line per letter: id, signal, items, when, state, error")
    replay = actions.add_parser(
        "replay",
        help="store letters' items, then remove the letters",
        description="Store each letter's items in one commit, then remove the letter; a letter "
        "the store refuses again stays. Spans already stored are not stored twice; log records "
        "and metric points would be, so a letter whose replay did not finish (listed as "
        "replay-unfinished) is only replayed with --force.",
    )
    drop = actions.add_parser("drop", help="delete letters without storing them")
    for action in (replay, drop):
        action.add_argument("ids", nargs="*", metavar="ID", help="letters, as listed")
        action.add_argument("--all", action="store_true", help="every letter")
    replay.add_argument(
        "--force", action="store_true", help="also replay letters whose replay did not finish"
    )
    replay.add_argument(
        "--api-url",
        default=None,
        help="replay through this running obsvty's query API (e.g. http://127.0.0.1:8000), "
        "which writes between its flushes; default: open the store here (DuckDB: obsvty stopped)",
    )
    replay.add_argument(
        "--token", default=None, help="a query token (default: $OBSVTY_EXPORT_TOKEN)"
    )


def _dead_letters(args: argparse.Namespace) -> int:
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"obsvty: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    _configure_logging(settings)
    from obsvty.dead_letters_command import run_dead_letters

    return run_dead_letters(
        settings,
        args.action,
        getattr(args, "ids", ()),
        every=getattr(args, "all", False),
        force=getattr(args, "force", False),
        api_url=getattr(args, "api_url", None),
        token=getattr(args, "token", None),
    )


def _configure_logging(settings: Settings) -> None:
    configure_logging(settings.log_level, settings.log_format)


def _serve() -> int:
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"obsvty: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    _configure_logging(settings)
    for warning in variable_warnings():  # e.g. a misspelt OBSVTY_* variable, ignored
        logging.getLogger("obsvty").warning(warning)
    from obsvty.main import serve  # import the servers only when serving

    try:
        asyncio.run(serve(settings))
    except (SettingsError, RedactionConfigError) as exc:
        print(f"obsvty: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except StoreError as exc:
        print(f"obsvty: {exc}", file=sys.stderr)
        return EXIT_STORE
    except OSError as exc:
        print(f"obsvty: cannot listen: {exc}", file=sys.stderr)
        return EXIT_STORE
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "serve":
        return _serve()
    if args.command == "export":
        from obsvty.export_command import run_export

        return run_export(args.signal, args.since, args.until, args.api_url, args.token)
    if args.command == "dead-letters":
        return _dead_letters(args)
    if args.command == "check-config":
        from obsvty.check_config import check_config

        return check_config(as_json=args.json)
    _parser().print_help()
    return EXIT_CONFIG


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
