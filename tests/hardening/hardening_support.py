"""Helpers for the hardening tests: reading the raw database, walking the dialogue over the webhook."""

from __future__ import annotations

import base64
import contextlib
import json
from typing import Any

from sqlalchemy import Engine, inspect

from bot import crypto


def raw_rows(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table exactly as stored (no type decorators, no decryption)."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            out[table] = [tuple(r) for r in conn.exec_driver_sql(f'SELECT * FROM "{table}"')]
    return out


def raw_text(engine: Engine) -> str:
    """All stored values as one searchable string (bytes decoded, JSON as written)."""
    parts = []
    for table, rows in raw_rows(engine).items():
        for row in rows:
            for value in row:
                if isinstance(value, bytes | bytearray | memoryview):
                    value = bytes(value).decode("utf-8", "replace")
                elif isinstance(value, dict | list):
                    value = json.dumps(value, ensure_ascii=False)
                parts.append(f"{table}: {value}")
    return "\n".join(parts)


def decrypted_text(engine: Engine) -> str:
    """Like raw_text, but every value that is one of our ciphertexts is decrypted first: what a
    thief holding the database *and* the key would read."""
    parts = []
    for table, rows in raw_rows(engine).items():
        for row in rows:
            for value in row:
                if isinstance(value, str):
                    with contextlib.suppress(Exception):
                        value = crypto.decrypt(value)
                elif isinstance(value, dict | list):
                    value = json.dumps(value, ensure_ascii=False)
                parts.append(f"{table}: {value}")
    return "\n".join(parts)


def texts(messages: list[dict[str, Any]]) -> str:
    return "\n".join(m.get("text", "") for m in messages if m.get("type") == "text")


def buttons(messages: list[dict[str, Any]]) -> dict[str, str]:
    return {
        item["action"]["label"]: item["action"].get("data") or item["action"].get("text")
        for m in messages
        for item in (m.get("quickReply") or {}).get("items", [])
    }


def tap(line, user: str, messages, label: str):
    """Tap a quick-reply button the way LINE does: a postback, or the button's text as a message."""
    for m in messages:
        for item in (m.get("quickReply") or {}).get("items", []):
            action = item["action"]
            if action["label"] == label:
                if action["type"] == "postback":
                    return line.postback(user, action["data"])
                return line.say(user, action["text"])
    raise AssertionError(f"no button {label!r} in {buttons(messages)}")


def consult_until_consent(line, user: str, words: str) -> list[dict[str, Any]]:
    """follow → 相談する → 自分のこと → words → 以上です → 合っている → skip follow-ups → consent offer."""
    got = line.follow(user)
    got = tap(line, user, got, "相談する")
    got = tap(line, user, got, "自分のこと")
    got = line.say(user, words)
    got = tap(line, user, got, "以上です")
    got = tap(line, user, got, "合っている")
    for _ in range(10):
        if "同意する" in buttons(got):
            return got
        got = tap(line, user, got, "とばす")
    raise AssertionError(f"no consent offer: {texts(got)}")


def b64(s: str) -> str:
    return base64.b64encode(s.encode()).decode()
