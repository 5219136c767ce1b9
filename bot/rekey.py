"""After a key rotation: re-encrypt every encrypted value with the current key and re-hash the
keyed lookup hashes, so the old secret can leave CONSULT_OLD_SECRET_KEYS.

Run `consult-bot keys reencrypt` with the new secret in CONSULT_SECRET_KEY and the old one in
CONSULT_OLD_SECRET_KEYS, while the service keeps running:

- Every column typed EncryptedText/EncryptedJSON in any model is found from the metadata (a new
  encrypted column is covered without touching this file). Values not under the current key id
  are decrypted and written back under it, in batches ordered by primary key, one commit per
  batch. Each write is a compare-and-set on the old ciphertext, so a row the running service
  rewrote meanwhile is left alone (it is already under the new key).
- Lookup hashes (residents.user_hash, outbox_messages.recipient_key, inbox_events.source_key) are
  recomputed from the decrypted ids under the current secret.
- Resumable and idempotent: values already under the current key are skipped, so an interrupted
  run is simply started again, and a second run changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import typer
from sqlalchemy import Engine, Integer, Table, Text, and_, column, func, or_, select, table, update
from sqlalchemy.engine import Connection

from bot import crypto
from bot.db import Base, import_all_models

DEFAULT_BATCH = 500


@dataclass
class RekeyReport:
    reencrypted: dict[str, int] = field(default_factory=dict)  # "table.column" → values rewritten
    rehashed: dict[str, int] = field(default_factory=dict)  # "table.column" → hashes rewritten
    # Written by the running service between our read and our write: left as it is.
    changed_meanwhile: int = 0
    # Under a key the ring does not have: the old secret must stay until this is 0.
    unreadable: int = 0
    # A resident who wrote after the rotation but before this run got a second row (older
    # versions did not look up old hashes); both are kept, the old row keeps its old hash.
    duplicate_residents: int = 0
    remaining_old: int = 0  # values still not under the current key after the run

    @property
    def complete(self) -> bool:
        return self.remaining_old == 0 and self.unreadable == 0


def encrypted_columns() -> list[tuple[Table, list[str]]]:
    """(table, encrypted column names) for every table with an EncryptedText/EncryptedJSON column."""
    import_all_models()
    found = []
    for tbl in Base.metadata.sorted_tables:
        names = [
            c.name for c in tbl.columns if isinstance(c.type, crypto.EncryptedText | crypto.EncryptedJSON)
        ]
        if names:
            found.append((tbl, names))
    return found


def _raw(tbl: Table, names: list[str]):
    """The table with plain Text columns: we read and write ciphertext, no type decorators."""
    (pk,) = tbl.primary_key.columns
    return table(tbl.name, column(pk.name, Integer), *(column(n, Text) for n in names)), pk.name


def _batches(engine: Engine, tbl: Table, names: list[str], where, batch_size: int) -> Iterator[tuple]:
    """Yield (connection, raw table, rows) per batch in primary-key order; each batch is committed
    when the caller asks for the next one."""
    raw, pk = _raw(tbl, names)
    last = None
    while True:
        with engine.begin() as conn:
            q = select(raw.c[pk], *(raw.c[n] for n in names)).order_by(raw.c[pk]).limit(batch_size)
            if where is not None:
                q = q.where(where(raw))
            if last is not None:
                q = q.where(raw.c[pk] > last)
            rows = conn.execute(q).all()
            if not rows:
                return
            yield conn, raw, pk, rows
            last = rows[-1][0]


def _old_values(raw, names: list[str]):
    prefix = crypto.ring().current_id + ":"
    return or_(*(and_(raw.c[n].is_not(None), ~raw.c[n].startswith(prefix)) for n in names))


def _cas(conn: Connection, raw, pk: str, row_id: int, name: str, old: Any, new: Any) -> bool:
    """Write `new` only if the value is still `old`: never overwrite what the service just wrote."""
    result = conn.execute(update(raw).where(raw.c[pk] == row_id, raw.c[name] == old).values({name: new}))
    return result.rowcount == 1


def reencrypt_values(engine: Engine, report: RekeyReport, *, batch_size: int, echo: Callable) -> None:
    for tbl, names in encrypted_columns():
        for name in names:
            report.reencrypted.setdefault(f"{tbl.name}.{name}", 0)
        for conn, raw, pk, rows in _batches(
            engine, tbl, names, lambda r, n=names: _old_values(r, n), batch_size
        ):
            for row in rows:
                for i, name in enumerate(names, start=1):
                    old = row[i]
                    if old is None or crypto.is_current(old):
                        continue
                    try:
                        new = crypto.reencrypt(old)
                    except Exception:
                        report.unreadable += 1
                        continue
                    if _cas(conn, raw, pk, row[0], name, old, new):
                        report.reencrypted[f"{tbl.name}.{name}"] += 1
                    else:
                        report.changed_meanwhile += 1
        done = sum(report.reencrypted[f"{tbl.name}.{n}"] for n in names)
        echo(f"  {tbl.name}: {done} value(s) re-encrypted")


def _plain(ciphertext: str) -> str | None:
    try:
        return crypto.decrypt(ciphertext)
    except Exception:  # under a key the ring lacks: counted by the re-encryption pass
        return None


def _tables() -> dict[str, Table]:
    import_all_models()
    return Base.metadata.tables


def rehash_lookups(engine: Engine, report: RekeyReport, *, batch_size: int, echo: Callable) -> None:
    from bot.line.inbound import source_id

    tables = _tables()
    # Processed inbox rows are content-free stubs: their source is found through the residents.
    old_to_new: dict[str, str] = {}
    n = 0
    for conn, raw, pk, rows in _batches(
        engine, tables["residents"], ["line_user_id", "user_hash"], None, batch_size
    ):
        for row_id, line_id_ct, user_hash in rows:
            line_id = _plain(line_id_ct)
            if line_id is None:
                continue
            for old in crypto.lookup_hashes(f"user:{line_id}")[1:]:
                old_to_new[old] = crypto.lookup_hash(f"user:{line_id}")
            new = crypto.lookup_hash(line_id)
            if user_hash == new:
                continue
            if conn.scalar(select(raw.c[pk]).where(raw.c.user_hash == new)) is not None:
                report.duplicate_residents += 1
            elif _cas(conn, raw, pk, row_id, "user_hash", user_hash, new):
                n += 1
    report.rehashed["residents.user_hash"] = n
    echo(f"  residents: {n} lookup hash(es) recomputed")

    n = 0
    for conn, raw, pk, rows in _batches(
        engine, tables["outbox_messages"], ["to", "recipient_key"], None, batch_size
    ):
        for row_id, to_ct, key in rows:
            to = _plain(to_ct)
            new = key if to is None else crypto.lookup_hash(to)
            if key != new and _cas(conn, raw, pk, row_id, "recipient_key", key, new):
                n += 1
    report.rehashed["outbox_messages.recipient_key"] = n
    echo(f"  outbox_messages: {n} recipient key(s) recomputed")

    n = 0
    for conn, raw, pk, rows in _batches(
        engine, tables["inbox_events"], ["payload", "status", "source_key"], None, batch_size
    ):
        for row_id, payload_ct, status, key in rows:
            payload = _plain(payload_ct) if status == "pending" else None
            if payload is not None:
                source_type, chat_id = source_id(json.loads(payload))
                new = crypto.lookup_hash(f"{source_type}:{chat_id}")
            else:
                new = old_to_new.get(key, key)
            if key != new and _cas(conn, raw, pk, row_id, "source_key", key, new):
                n += 1
    report.rehashed["inbox_events.source_key"] = n
    echo(f"  inbox_events: {n} source key(s) recomputed")


def count_old_values(engine: Engine) -> int:
    total = 0
    with engine.connect() as conn:
        for tbl, names in encrypted_columns():
            raw, _ = _raw(tbl, names)
            total += conn.scalar(select(func.count()).select_from(raw).where(_old_values(raw, names))) or 0
    return total


def rekey(engine: Engine, *, batch_size: int = DEFAULT_BATCH, echo: Callable = print) -> RekeyReport:
    """Re-encrypt everything under the current key and re-hash the lookups (crypto must be configured)."""
    report = RekeyReport()
    echo(f"re-encrypting with key {crypto.ring().current_id} (batches of {batch_size})")
    reencrypt_values(engine, report, batch_size=batch_size, echo=echo)
    rehash_lookups(engine, report, batch_size=batch_size, echo=echo)
    report.remaining_old = count_old_values(engine)
    return report


# --- command line: `consult-bot keys …` (registered in bot/cli.py) ----------------------------

keys_app = typer.Typer(help="Encryption keys (after a rotation)", no_args_is_help=True)


@keys_app.command("reencrypt")
def reencrypt_command(
    batch_size: int = typer.Option(DEFAULT_BATCH, min=1, help="Rows per transaction"),
) -> None:
    """Re-encrypt all personal data under CONSULT_SECRET_KEY and re-hash the lookups.

    Afterwards the secrets in CONSULT_OLD_SECRET_KEYS can be removed. Safe to interrupt and rerun.
    """
    from bot.db import make_engine
    from bot.settings import Settings

    settings = Settings()
    crypto.configure(settings.effective_secret_key, settings.old_secrets)
    engine = make_engine(settings.effective_database_url)
    try:
        report = rekey(engine, batch_size=batch_size, echo=typer.echo)
    finally:
        engine.dispose()
    total = sum(report.reencrypted.values())
    typer.echo(f"re-encrypted {total} value(s); recomputed {sum(report.rehashed.values())} lookup hash(es)")
    if report.changed_meanwhile:
        typer.echo(
            f"{report.changed_meanwhile} value(s) were rewritten by the service meanwhile (left as is)"
        )
    if report.duplicate_residents:
        typer.echo(
            f"{report.duplicate_residents} resident(s) wrote again between the rotation and this run and "
            "have a second record; their older record keeps the old hash until retention removes it"
        )
    if report.unreadable:
        typer.echo(f"error: {report.unreadable} value(s) are under a key not in the ring", err=True)
    if not report.complete:
        typer.echo(
            f"{report.remaining_old} value(s) are still under an old key: keep CONSULT_OLD_SECRET_KEYS "
            "and run again",
            err=True,
        )
        raise typer.Exit(1)
    typer.echo("everything is under the current key: CONSULT_OLD_SECRET_KEYS can be removed")
