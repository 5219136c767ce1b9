"""Mount the staff API and web UI on the app."""

from fastapi import FastAPI


def install(app: FastAPI) -> None:
    pass
