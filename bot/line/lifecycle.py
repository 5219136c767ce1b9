"""Start and stop the background workers with the app (inbox processing, outbox sending, jobs)."""

from fastapi import FastAPI


async def start(app: FastAPI) -> None:
    pass


async def stop(app: FastAPI) -> None:
    pass
