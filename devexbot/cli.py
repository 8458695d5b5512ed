"""`devexbot`: the bot's command line. Errors are one line on stderr and exit 2."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from contextlib import closing
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from devexbot import __version__
from devexbot.config import BotConfig, load_config
from devexbot.errors import ConfigError, DatabaseError, DevexbotError, SettingsError
from devexbot.logs.setup import configure_logging
from devexbot.runbooks.registry import Runbooks, load_runbooks
from devexbot.settings import Settings, config_path, load_settings
from devexbot.store import Database
from devexbot.store.migrate import current_revision, head_revision, upgrade
from devexbot.store.serving_lock import serving

log = logging.getLogger("devexbot")

EXIT_USAGE = 2
_ALL_INTERFACES = ("0.0.0.0", "::")  # noqa: S104 - names, to print a URL one can open


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    command: Callable[[argparse.Namespace], int] = args.command
    try:
        return command(args)
    except (ConfigError, SettingsError) as exc:
        for problem in exc.problems:
            print(f"devexbot: error: {problem}", file=sys.stderr)
        return EXIT_USAGE
    except DevexbotError as exc:
        print(f"devexbot: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="devexbot", description="A ChatOps bot: one Slack message per commit, kept "
        "current from GitHub, CI and deploy webhooks. Errors are one line on stderr and exit "
        "status 2.", epilog="`devexbot COMMAND --help` tells more about each command.")
    parser.add_argument("-V", "--version", action="version", version=f"devexbot {__version__}")
    sub = parser.add_subparsers(required=True, metavar="COMMAND", title="commands")

    serve = sub.add_parser("serve", help="run the bot (HTTP server)")
    serve.add_argument("--host", default="127.0.0.1",
                       help="interface to listen on (default 127.0.0.1; 0.0.0.0 for all)")
    serve.add_argument("--port", type=int, default=None, help="port (default $PORT or 8000)")
    serve.add_argument("--log-level", default="info",
                       choices=["debug", "info", "warning", "error"])
    serve.set_defaults(command=_serve)

    demo = sub.add_parser("demo", help="run a bot that plays a realistic story: watch the cards")
    demo.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    demo.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    demo.add_argument("--speed", type=float, default=1.0,
                      help="play the story this many times faster (default 1: about 90 s)")
    demo.add_argument("--wait", type=float, default=30.0, metavar="SECONDS",
                      help="how long the story waits for you to click Retry, Merge and "
                           "Approve before its own people do (default 30; 0: no waiting)")
    demo.add_argument("--slack-channel", metavar="CHANNEL",
                      help="also post the cards to this Slack channel (C…), with "
                           "SLACK_BOT_TOKEN, and SLACK_APP_TOKEN for the buttons")
    demo.add_argument("--log-level", default="warning",
                      choices=["debug", "info", "warning", "error"])
    demo.set_defaults(command=_demo)

    db = sub.add_parser("db", help="the database schema: `db upgrade` creates or upgrades it")
    db_sub = db.add_subparsers(required=True, metavar="ACTION")
    db_upgrade = db_sub.add_parser("upgrade", help="create or upgrade the schema")
    db_upgrade.set_defaults(command=_db_upgrade)

    manifest = sub.add_parser("manifest", help="print the Slack app manifest (YAML)")
    manifest.add_argument("--url", help="the bot's public base URL (https://devexbot.example.com)")
    manifest.add_argument("--socket-mode", action="store_true",
                          help="connect out over Socket Mode (no public URL needed)")
    manifest.add_argument("--name", default="devexbot", help="the app's name in Slack")
    manifest.add_argument("--command-per-runbook", metavar="RUNBOOK", action="append",
                          default=[], help="also give this runbook a slash command of its own "
                                           "(/RUNBOOK); repeat for several, or 'all'")
    manifest.add_argument("--config", type=Path, default=None,
                          help="config file naming the runbooks (default $DEVEXBOT_CONFIG)")
    manifest.set_defaults(command=_manifest)

    jobs = sub.add_parser("jobs", help="list the scheduled jobs: next run, last result")
    jobs.set_defaults(command=_jobs)

    check = sub.add_parser("check-config", help="check the YAML config and the environment's "
                                                "settings: every mistake at once")
    check.add_argument("path", nargs="?", type=Path,
                       help="config file (default $DEVEXBOT_CONFIG or config/devexbot.yaml)")
    check.set_defaults(command=_check_config)
    return parser


def _database(settings: Settings) -> Database:
    return Database(settings.database_url)


def _describe(settings: Settings) -> str:
    return settings.database_url.split("://", 1)[0] + "://…" if "@" in settings.database_url \
        else settings.database_url


def prepare_schema(db: Database, settings: Settings) -> None:
    """SQLite creates or upgrades its schema itself; PostgreSQL must be at head already."""
    try:
        if db.is_sqlite:
            upgrade(db.engine)
            return
        current, head = current_revision(db.engine), head_revision()
    except SQLAlchemyError as exc:
        raise DatabaseError(f"cannot use database {_describe(settings)}: {_reason(exc)}") from None
    if current != head:
        raise DatabaseError(
            f"database schema is at {current or 'nothing'}, this version needs {head}: "
            "run `devexbot db upgrade`"
        )


def _reason(exc: SQLAlchemyError) -> str:
    orig = getattr(exc, "orig", None) or exc
    return str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__


def _serve(args: argparse.Namespace) -> int:
    from devexbot.app import create_app
    from devexbot.http.connections import ConnectionLimits
    from devexbot.http.serving import listening_socket, serve
    from devexbot.wiring import build_services

    settings = load_settings()
    configure_logging(args.log_level, settings.devexbot_log_format)
    port = args.port or settings.port
    sock = listening_socket(args.host, port)  # a port in use stops it here, in one line
    # Before anything touches the database: a second process on one SQLite file would
    # pace Slack on its own and run the scheduler a second time.
    with closing(sock), serving(settings.database_url):
        services = build_services(settings)
        prepare_schema(services.db, settings)
        if not settings.devexbot_config.exists():
            log.info("%s: no such file: the defaults apply (no routes, people or runbooks)",
                     settings.devexbot_config)
        for line in services.config.deprecations():
            log.warning("%s", line)
        log.info("devexbot %s on http://%s:%d (database %s)", __version__, args.host, port,
                 _describe(settings))
        serve(create_app(settings, services=services), sock=sock, log_level=args.log_level,
              limits=ConnectionLimits.of(settings))
    return 0


def _demo(args: argparse.Namespace) -> int:
    import shutil
    import signal
    import tempfile
    import threading

    from devexbot.app import create_app
    from devexbot.demo import DemoSecrets, play
    from devexbot.demo.bot import DEMO_USER, DemoSlack, demo_config, demo_settings
    from devexbot.demo.world_http import DemoServices
    from devexbot.http.serving import BotServer, listening_socket, server_config
    from devexbot.wiring import build_services

    if args.speed <= 0:
        raise DevexbotError(f"--speed must be above 0 (got {args.speed})")
    if args.wait < 0:
        raise DevexbotError(f"--wait must be 0 or more seconds (got {args.wait})")
    slack = None
    if args.slack_channel is not None:
        if not args.slack_channel.startswith(("C", "G")) or not args.slack_channel.isalnum():
            raise DevexbotError(f"--slack-channel takes a channel id, C… (got "
                                f"{args.slack_channel!r}): in Slack, the channel's details "
                                "show it at the bottom")
        slack = DemoSlack.of(args.slack_channel, load_settings())
        if slack is None:
            raise DevexbotError("--slack-channel needs SLACK_BOT_TOKEN (the bot's xoxb- token)")
    sock = listening_socket(args.host, args.port)
    configure_logging(args.log_level)
    folder = Path(tempfile.mkdtemp(prefix="devexbot-demo-"))
    keys = DemoSecrets.generate()
    host = "127.0.0.1" if args.host in _ALL_INTERFACES else args.host
    url = f"http://{host}:{args.port}/"
    # The demo's own bot: a throw-away database, its own secrets, the demo's GitHub and
    # Jenkins, Slack only for --slack-channel; whoever looks from this machine acts as
    # the demo user.
    with DemoServices(bot_url=url, keys=keys, speed=args.speed) as backends:
        settings = demo_settings(folder, keys, backends, slack=slack)
        services = build_services(settings, config=demo_config(), demo_user=DEMO_USER)
        try:
            prepare_schema(services.db, settings)
            app = create_app(settings, services=services)
            server = BotServer(server_config(app, host=args.host, port=args.port,
                                             log_level=args.log_level), app)
            print(f"devexbot demo: open {url} to watch the cards build up (Ctrl-C stops it)",
                  flush=True)
            print(f"devexbot demo: on this machine you act as the demo user "
                  f"'{DEMO_USER.name}': Retry, Merge and Approve work on the demo's own "
                  "GitHub and Jenkins", flush=True)
            if slack is not None:
                buttons = "buttons act as whoever clicks them" if slack.app_token else \
                    "set SLACK_APP_TOKEN (Socket Mode) for its buttons to reach this bot"
                print(f"devexbot demo: the cards go to Slack channel {slack.channel} too; "
                      f"{buttons}", flush=True)
            stop = threading.Event()

            def story() -> None:
                while not server.started and not stop.wait(0.05):
                    pass
                if stop.is_set():
                    return
                sent = play(url, keys, speed=args.speed, stop=stop, world=backends.world,
                            patience=args.wait, say=lambda line: print(line, flush=True))
                if not stop.is_set():
                    print(f"devexbot demo: the story is told ({sent} webhooks); the cards "
                          f"stay at {url} until Ctrl-C", flush=True)

            player = threading.Thread(target=story, name="demo-story", daemon=True)
            player.start()
            # uvicorn re-raises the SIGTERM it shut down on, to the handler it found: let
            # that one return, so the throw-away database is removed below.
            signal.signal(signal.SIGTERM, lambda signum, frame: None)
            server.run(sockets=[sock])
            stop.set()
            player.join(5)
        finally:
            sock.close()
            services.db.dispose()
            shutil.rmtree(folder, ignore_errors=True)
    return 0


def _db_upgrade(args: argparse.Namespace) -> int:
    settings = load_settings()
    db = _database(settings)
    try:
        upgrade(db.engine)
        revision = current_revision(db.engine)
    except SQLAlchemyError as exc:
        raise DatabaseError(f"cannot upgrade {_describe(settings)}: {_reason(exc)}") from None
    print(f"database {_describe(settings)} is at revision {revision}")
    return 0


def _jobs(args: argparse.Namespace) -> int:
    from devexbot.scheduler.listing import job_lines

    settings = load_settings()
    db = _database(settings)
    try:
        lines = job_lines(db)
    except SQLAlchemyError as exc:
        raise DatabaseError(f"cannot read the jobs from {_describe(settings)}: "
                            f"{_reason(exc)}") from None
    finally:
        db.dispose()
    print("\n".join(lines))
    return 0


def _manifest(args: argparse.Namespace) -> int:
    from devexbot.slack.manifest import manifest_yaml

    if not args.url and not args.socket_mode:
        raise DevexbotError("give the bot's public URL (--url https://...) or --socket-mode")
    if args.url and not args.url.startswith(("https://", "http://")):
        raise DevexbotError(f"--url must start with https:// (got {args.url!r})")
    runbooks = []
    if args.command_per_runbook:
        config = load_config(args.config or load_settings().devexbot_config, required=True)
        known = _runbooks(config, check_files=False)
        wanted = [c.name for c in known] if "all" in args.command_per_runbook \
            else args.command_per_runbook
        for name in wanted:
            command = known.get(name)
            if command is None:
                raise DevexbotError(f"--command-per-runbook {name}: the config has no such "
                                    f"runbook (it has: {', '.join(c.name for c in known)})")
            runbooks.append(command)
    sys.stdout.write(manifest_yaml(public_url=args.url, socket_mode=args.socket_mode,
                                   name=args.name, runbooks=runbooks))
    return 0


def _runbooks(config: BotConfig, *, check_files: bool) -> Runbooks:
    from handlers.slack import builtin_subcommands

    return load_runbooks(config, reserved=builtin_subcommands(), check_files=check_files)


def _check_config(args: argparse.Namespace) -> int:
    """Every mistake found, in the environment and in the config, at once; a missing file
    is what `serve` makes of it: the defaults."""
    problems: list[str] = []
    try:
        load_settings()
    except SettingsError as exc:
        problems += exc.problems
    path = args.path or config_path()
    config: BotConfig | None = None
    try:
        config = load_config(path)
    except ConfigError as exc:
        problems += exc.problems
        config = exc.valid_part if isinstance(exc.valid_part, BotConfig) else None
    runbooks = None
    if config is not None:
        try:
            runbooks = _runbooks(config, check_files=True)
        except ConfigError as exc:
            problems += exc.problems
    if problems:
        raise ConfigError(problems[0], problems=problems)
    assert config is not None and runbooks is not None
    for line in config.deprecations():
        print(f"devexbot: warning: {line}", file=sys.stderr)
    found = "OK" if path.exists() else "no such file, so the bot runs on the defaults: OK"
    print(
        f"{path}: {found} ({len(config.routes)} routes, {len(config.people)} people, "
        f"{len(config.environments)} environments, {len(runbooks)} runbooks)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
