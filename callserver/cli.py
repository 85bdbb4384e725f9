"""The `callserver` command: run the server, run the PBX simulator, check a config, migrate the DB."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from .checks import load_checked
from .config import DEFAULT_CONFIG, ConfigError, PortInUse, Settings, name_items
from .logs import configure_logging

log = logging.getLogger("callserver")


def _config_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        type=Path,
        default=DEFAULT_CONFIG,
        metavar="FILE",
        help=f"configuration file (default: {DEFAULT_CONFIG})",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="callserver",
        description="Call-centre server beside Asterisk (AMI + FastAGI): ACD, CTI, IVR, campaigns.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run the server against Asterisk (or the simulator)")
    _config_arg(run)
    run.add_argument(
        "--with-simulator",
        action="store_true",
        help="also start the PBX simulator in this process, listening where the config puts Asterisk",
    )

    simulate = sub.add_parser("simulate", help="run the PBX simulator (AMI + FastAGI client) alone")
    _config_arg(simulate)
    # the capacity simulator used to live here; the old spelling still works and says where it went
    simulate.add_argument("--offline", type=Path, metavar="SCENARIO", help=argparse.SUPPRESS)
    simulate.add_argument("--out", type=Path, metavar="DIR", help=argparse.SUPPRESS)

    capacity = sub.add_parser(
        "capacity", help="capacity simulation: the routing engine on a virtual clock over a scenario"
    )
    capacity.add_argument("scenario", type=Path, metavar="SCENARIO", help="scenario file (YAML)")
    capacity.add_argument("--out", type=Path, metavar="DIR", help="where to write the SVG plot (default: .)")
    capacity.add_argument("--config", type=Path, help=argparse.SUPPRESS)

    campaigns = sub.add_parser("campaigns", help="outbound campaigns of the running server")
    campaigns_sub = campaigns.add_subparsers(dest="campaigns_command", required=True, metavar="ACTION")
    imp = campaigns_sub.add_parser(
        "import", help="import a CSV list into a campaign (all or nothing), with a progress bar"
    )
    _config_arg(imp)
    imp.add_argument("campaign")
    imp.add_argument("file", type=Path, metavar="FILE")
    imp.add_argument("--list", dest="list_name", help="the list's name (default: the file's name)")
    imp.add_argument(
        "--phone", action="append", metavar="COLUMN", help="phone column (repeat for more; default: phone)"
    )
    imp.add_argument("--id", metavar="COLUMN", help="column with the lead's id")
    imp.add_argument("--time-zone", metavar="COLUMN", help="column with an IANA time zone")
    imp.add_argument("--priority", metavar="COLUMN", help="column with a whole-number priority")
    imp.add_argument("--region", metavar="COLUMN", help="column with the ISO country of national numbers")
    imp.add_argument("--fields", metavar="A,B", help="columns kept for the screen-pop (default: all others)")
    imp.add_argument("--url", help="the server (default: the config's web host and port)")
    imp.add_argument(
        "--login", default="admin", help="a supervisor or admin login (password: CALLSERVER_PASSWORD)"
    )

    prompts = sub.add_parser("prompts", help="IVR prompts")
    prompts_sub = prompts.add_subparsers(dest="prompts_command", required=True, metavar="ACTION")
    build = prompts_sub.add_parser("build", help="synthesise every text prompt of the IVR flows now")
    _config_arg(build)

    doctor = sub.add_parser(
        "doctor",
        help="check this deployment against the running Asterisk; one line per finding, exit 1 on failure",
    )
    _config_arg(doctor)

    passwd = sub.add_parser("passwd", help="print an argon2 hash for a web user's password (asks twice)")
    passwd.add_argument("login")
    passwd.add_argument("--config", type=Path, help=argparse.SUPPRESS)

    check = sub.add_parser("check-config", help="validate a configuration file; exit 1 on any error")
    check.add_argument("file", type=Path, metavar="FILE")
    check.add_argument("--config", type=Path, help=argparse.SUPPRESS)

    customers = sub.add_parser("customers", help="the customer base: import or export CSV")
    customers_sub = customers.add_subparsers(dest="customers_command", required=True, metavar="ACTION")
    cimport = customers_sub.add_parser(
        "import", help="add the customers of a CSV file; a file with any bad row imports nothing"
    )
    cimport.add_argument("file", type=Path, metavar="FILE")
    cimport.add_argument(
        "--update", action="store_true", help="also overwrite customers already known (same account or phone)"
    )
    _config_arg(cimport)
    cexport = customers_sub.add_parser("export", help="write every customer as CSV")
    cexport.add_argument(
        "file", type=Path, metavar="FILE", nargs="?", help="where to write (default: stdout)"
    )
    _config_arg(cexport)

    qlog = sub.add_parser("queue-log", help="write a period's Asterisk queue_log from the database")
    qlog.add_argument(
        "--from", dest="start", required=True, help="start: ISO 8601 (naive: UTC) or Unix seconds"
    )
    qlog.add_argument("--to", dest="end", required=True, help="end, excluded: ISO 8601 or Unix seconds")
    qlog.add_argument("file", type=Path, metavar="FILE", nargs="?", help="where to write (default: stdout)")
    _config_arg(qlog)
    report = sub.add_parser(
        "report", help="a historical report as CSV or JSON on standard output (docs/reports.md)"
    )
    report.add_argument("name", nargs="?", metavar="NAME", help="the report (see --list)")
    report.add_argument("--from", dest="first", metavar="YYYY-MM-DD", help="first local day")
    report.add_argument("--to", dest="last", metavar="YYYY-MM-DD", help="last local day (included)")
    report.add_argument("--interval", help="15m, 30m, 60m, day, week or month (default: the report's)")
    report.add_argument("--format", default="csv", help="csv (default) or json")
    report.add_argument(
        "--filter", action="append", default=[], metavar="ID", help="only this dimension id (repeatable)"
    )
    report.add_argument("--list", action="store_true", help="list the reports")
    report.add_argument(
        "--rebuild",
        action="store_true",
        help="recompute the report tables from the event log (server stopped)",
    )
    _config_arg(report)

    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    upgrade = db_sub.add_parser("upgrade", help="apply the schema migrations")
    _config_arg(upgrade)
    return parser


def _setup_logging(verbose: bool) -> None:
    configure_logging(logging.DEBUG if verbose else logging.INFO, datefmt="%H:%M:%S")


def _run_until_signal(main: Callable[[asyncio.Event], Awaitable[None]]) -> None:
    async def runner() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        await main(stop)

    asyncio.run(runner())


def _load(path: Path) -> Settings:
    try:
        return load_checked(path).settings
    except ConfigError as err:
        for problem in err.problems:
            print(f"{err.source}: {problem}", file=sys.stderr)
        raise SystemExit(1) from None


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _setup_logging(args.verbose)
    if args.command == "check-config":
        try:
            settings = load_checked(args.file).settings
        except ConfigError as err:
            for problem in err.problems:
                print(f"{err.source}: {problem}", file=sys.stderr)
            return 1
        from .sounds.check import unknown_sounds

        sound_problems = name_items(unknown_sounds(settings), settings.model_dump(mode="json"))
        for problem in sound_problems:
            print(f"{args.file}: {problem}", file=sys.stderr)
        if sound_problems:
            return 1
        from .scripts.catalog import load_catalog

        catalog, script_problems = load_catalog(settings, str(args.file))
        for script_problem in script_problems:
            print(script_problem, file=sys.stderr)
        if any(not p.warning for p in script_problems):
            return 1
        print(
            f"{args.file}: OK ({len(settings.agents)} agents, {len(settings.queues)} queues, "
            f"{len(settings.skills)} skills, {len(catalog.scripts)} scripts)"
        )
        return 0

    if args.command == "passwd":
        from .web.auth import set_password

        return set_password([args.login])
    if args.command == "capacity":
        from .capacity.outbound import is_outbound, main_outbound

        if is_outbound(args.scenario):
            return main_outbound(args.scenario)
    if args.command == "capacity" or (args.command == "simulate" and args.offline is not None):
        from .capacity.simulation import main_offline

        if args.command == "simulate":
            print(
                "note: `callserver simulate --offline` is now `callserver capacity SCENARIO`",
                file=sys.stderr,
            )
            return main_offline(args.offline, out_dir=args.out)
        return main_offline(args.scenario, out_dir=args.out)

    settings = _load(args.config)
    if args.command == "campaigns":
        return _import_list(args, settings)
    if args.command == "prompts":
        from .ivr.prompt_build import build_all_prompts

        report = asyncio.run(build_all_prompts(settings))
        print(report.summary())
        return 0 if report.ok else 1
    if args.command == "doctor":
        from .doctor import run_doctor

        found = asyncio.run(run_doctor(settings))
        for line in found.lines():
            print(line)
        return found.exit_code
    if args.command in ("run", "simulate"):
        try:
            if args.command == "run":
                from .app import run_server

                _run_until_signal(
                    lambda stop: run_server(
                        settings, stop, with_simulator=args.with_simulator, source=str(args.config)
                    )
                )
            else:
                from .sim.simulator import run_simulator

                _run_until_signal(lambda stop: run_simulator(settings, stop))
        except PortInUse as err:
            print(f"{args.config}: {err.setting}: {err}", file=sys.stderr)
            return 1
    elif args.command == "customers":
        from .store.customer_io import export_customers, import_customers

        if args.customers_command == "import":
            return import_customers(settings, args.file, update=args.update)
        return export_customers(settings, args.file)
    elif args.command == "queue-log":
        from .app import agent_queues
        from .queuelog.command import export_queue_log, moment

        try:
            start, end = moment(args.start), moment(args.end)
        except ValueError as err:
            print(f"--from/--to: {err}", file=sys.stderr)
            return 1
        return export_queue_log(settings, agent_queues(settings), start, end, args.file)
    elif args.command == "report":
        return _report(args, settings)
    elif args.command == "db":
        from .store.migrate import upgrade

        asyncio.run(upgrade(settings.database_url(), region=settings.customers.default_region))
        print(f"database at {settings.database_url()} is up to date")
    return 0


def _report(args: argparse.Namespace, settings: Settings) -> int:
    from .reports.command import run_report

    agent_queues = None
    if args.rebuild:
        from .app import build_engine

        agent_queues = {a.id: sorted(a.queues) for a in build_engine(settings).agents.values()}
    elif not args.list and args.name is None:
        print("callserver report: give a report NAME (or --list, or --rebuild)", file=sys.stderr)
        return 2
    params: dict[str, list[str]] = {"format": [args.format]}
    for key, value in (("from", args.first), ("to", args.last), ("interval", args.interval)):
        if value is not None:
            params[key] = [value]
    if args.filter:
        from .reports.catalogue import catalogue

        definition = catalogue(settings.reports.definitions).get(args.name or "")
        if definition is not None:
            params[definition.dimension.value] = list(args.filter)
    return asyncio.run(run_report(settings, args.name, params, listing=args.list, rebuild_for=agent_queues))


def _import_list(args: argparse.Namespace, settings: Settings) -> int:
    import getpass

    from .campaigns.importer import ImportRequest, default_env, password_from, run_import

    host = settings.web.host if settings.web.host not in ("0.0.0.0", "::", "") else "127.0.0.1"
    request = ImportRequest(
        base_url=args.url or f"http://{host}:{settings.web.port}",
        login=args.login,
        password=password_from(default_env(), getpass.getpass),
        campaign=args.campaign,
        file=args.file,
        list_name=args.list_name or args.file.stem,
        phones=tuple(args.phone or ["phone"]),
        id=args.id,
        time_zone=args.time_zone,
        priority=args.priority,
        region=args.region,
        fields=tuple(f for f in (args.fields or "").split(",") if f),
    )
    return asyncio.run(run_import(request))


if __name__ == "__main__":
    sys.exit(main())
