"""`consult-bot` console script (contract: ../shared/contracts.md)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

app = typer.Typer(help="福祉まるごと相談 LINE bot", no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="Database commands", no_args_is_help=True)
staff_app = typer.Typer(help="Staff accounts", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(staff_app, name="staff")
richmenu_app = typer.Typer(help="The rich menu under the LINE chat", no_args_is_help=True)
app.add_typer(richmenu_app, name="richmenu")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, help="Web processes sharing the port (more than 1 needs PostgreSQL)")
    ] = 1,
    background: Annotated[
        bool,
        typer.Option(
            help="Also run the background workers in the web processes (--no-background: HTTP only,"
            " run `consult-bot worker` separately; same as CONSULT_RUN_WORKER=false)"
        ),
    ] = True,
) -> None:
    """Serve webhook, staff UI, simulator and background workers (one process by default)."""
    import os

    import uvicorn

    from bot.main import create_app
    from bot.migrate import upgrade
    from bot.settings import Settings

    if not background:
        os.environ["CONSULT_RUN_WORKER"] = "false"
    settings = Settings()
    if "public_base_url" not in settings.model_fields_set:
        # The simulator's sender calls the in-app fake LINE API at this address, so it must be ours.
        shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        settings = settings.model_copy(update={"public_base_url": f"http://{shown}:{port}"})
    if workers > 1 and settings.effective_database_url.startswith("sqlite"):
        typer.echo(
            "error: --workers > 1 needs PostgreSQL (DATABASE_URL=postgresql+psycopg://…);"
            " SQLite is the single-process embedded default.",
            err=True,
        )
        raise typer.Exit(2)
    if workers > 1 and settings.simulator_mode:
        typer.echo(
            "error: the LINE simulator keeps its chats in one process's memory; use --workers 1 for"
            " the simulator, or configure a LINE channel (LINE_CHANNEL_SECRET/…) for several processes.",
            err=True,
        )
        raise typer.Exit(2)
    # The embedded default must work on a fresh machine: bring the schema up to date first.
    upgrade(settings.effective_database_url)
    _print_first_admin(settings)
    if workers == 1:
        uvicorn.run(create_app(settings), host=host, port=port, log_level="info")
        return
    # Each worker process builds its own app from the environment (uvicorn spawns them fresh), so
    # everything computed here goes there as environment variables. Secrets generated into ./var/
    # on a first run exist by now (read above), so the processes cannot race to create them.
    os.environ["CONSULT_PUBLIC_BASE_URL"] = settings.public_base_url
    _ = settings.channel_secret, settings.channel_access_token
    uvicorn.run(
        "bot.main:app_from_env", factory=True, workers=workers, host=host, port=port, log_level="info"
    )


def _print_first_admin(settings) -> None:
    """On a fresh install there is no way into the staff UI yet: create `admin` once and say so."""
    from bot import crypto
    from bot.db import make_engine, make_session_factory
    from handoff.accounts import ensure_first_admin

    crypto.configure(settings.effective_secret_key, settings.old_secrets)
    engine = make_engine(settings.effective_database_url)
    try:
        with make_session_factory(engine)() as session:
            created = ensure_first_admin(session)
            session.commit()
    finally:
        engine.dispose()
    if created:
        name, password = created
        typer.echo(
            f"first admin account created — user: {name}  password: {password}\n"
            "  (shown once; sign in at /staff/ and change it under アカウント,"
            " or add accounts with `consult-bot staff add`)"
        )


@app.command()
def worker(
    nice: Annotated[
        int,
        typer.Option(
            min=0,
            max=19,
            help="Lower this process's CPU priority (e.g. 10) so web processes on the same machine"
            " answer LINE first during a burst",
        ),
    ] = 0,
) -> None:
    """Process the LINE inbox and send the outbox without serving HTTP (extra processes on PostgreSQL)."""
    import asyncio
    import os
    import signal

    from bot.main import create_app
    from bot.settings import Settings

    # CONSULT_RUN_WORKER=false may be set for the web units in a shared environment file.
    settings = Settings().model_copy(update={"run_worker": True})
    if settings.effective_database_url.startswith("sqlite"):
        typer.echo("SQLite allows one process: `serve` already runs the workers.", err=True)
        raise typer.Exit(2)
    if nice:
        os.nice(nice)  # the whole process: only background work runs here
    web_app = create_app(settings)
    # No webhook is answered here, so background steps have nothing to yield the interpreter to
    # (AckPriority would otherwise pause them whenever this process's own event loop runs late).
    web_app.state.line_ack_priority.share = 0.0

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        async with web_app.router.lifespan_context(web_app):
            typer.echo("worker running; Ctrl-C to stop")
            await stop.wait()

    asyncio.run(run())


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the Alembic migrations to DATABASE_URL."""
    from bot.migrate import upgrade
    from bot.settings import Settings

    upgrade(Settings().effective_database_url)
    typer.echo("database is up to date")


@app.command()
def classify() -> None:
    """JSON lines {"id", "text"} on stdin → one JSON line of categories/primary/risk per input."""
    from nlp.cli import classify_stream

    classify_stream(sys.stdin, sys.stdout)


@app.command("nlp-eval")
def nlp_eval(path: Annotated[str, typer.Argument(help="labelled JSONL file")]) -> None:
    """Print F1, primary accuracy, risk recall/precision and trap false alarms for a labelled file."""
    from nlp.evaluate import main as evaluate_main

    raise typer.Exit(evaluate_main(path))


@staff_app.command("add")
def staff_add(
    username: Annotated[str, typer.Argument(help="login name")],
    role: Annotated[str, typer.Option(help="staff | supervisor | admin")] = "staff",
    password: Annotated[
        str | None, typer.Option(help="asked for when not given (better: keeps it out of shell history)")
    ] = None,
    display_name: Annotated[str | None, typer.Option(help="name the resident sees in LINE")] = None,
) -> None:
    """Create a staff account for the staff web UI and the API."""
    from sqlalchemy.exc import OperationalError

    from bot.db import make_engine, make_session_factory
    from bot.migrate import upgrade_engine
    from bot.settings import Settings
    from handoff.accounts import AccountError, create_staff

    if role not in ("staff", "supervisor", "admin"):
        typer.echo(f"error: unknown role {role!r} (staff, supervisor or admin)", err=True)
        raise typer.Exit(2)
    if password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    engine = make_engine(Settings().effective_database_url)
    try:
        upgrade_engine(engine)
        with make_session_factory(engine)() as session:
            try:
                user = create_staff(
                    session, username=username, password=password, role=role, display_name=display_name
                )
                session.commit()
            except AccountError as exc:
                typer.echo(f"error: {exc}", err=True)
                raise typer.Exit(1) from None
            except OperationalError as exc:
                typer.echo(f"error: database not ready ({exc.orig}); run `consult-bot db upgrade`", err=True)
                raise typer.Exit(1) from None
            typer.echo(f"created {user.role} account {user.username!r}")
    finally:
        engine.dispose()


@richmenu_app.command("install")
def richmenu_install(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="only build the menu; call no LINE API")] = False,
    out: Annotated[
        str | None, typer.Option("--out", help="also write the menu image to this PNG file")
    ] = None,
) -> None:
    """Create the menu on the LINE channel, upload its image, make it the default, remove our older ones."""
    from bot.line.richmenu import RichMenuError, install_from_settings
    from bot.settings import Settings

    try:
        install_from_settings(Settings(), dry_run=dry_run, out=out, echo=typer.echo)
    except RichMenuError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None


# `consult-bot keys reencrypt` lives with its logic in bot/rekey.py.
from bot.rekey import keys_app  # noqa: E402

app.add_typer(keys_app, name="keys")
