"""The LINE channel: webhook in, outbox out, simulator. The only place that imports line-bot-sdk."""

from fastapi import FastAPI


def install(app: FastAPI) -> None:
    """Mount the webhook (and the simulator in simulator mode) on the app."""
