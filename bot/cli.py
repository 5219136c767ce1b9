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


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8000,
) -> None:
    """Serve webhook, staff UI, simulator and background workers in one process."""
    import uvicorn

    from bot.main import create_app

    uvicorn.run(create_app(), host=host, port=port, log_level="info")


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
