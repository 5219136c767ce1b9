"""The dialogue engine: one inbound message in, a dialogue step, outbound messages back.

Transport calls `Engine.handle` inside the unit of work that marks the inbox event done and
stores the outbox rows, so a step is applied exactly once. The engine flushes, never commits.
It loads the conversation, asks the state machine (bot/dialogs/machine.py) for the next step,
applies the machine's effects (staff queue, contact preference, deletion) and logs both sides in
the append-only conversation log. Nothing here imports line-bot-sdk.
"""

from __future__ import annotations

import copy as copylib
import logging
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.city import CityConfig
from bot.conversations import service as conversations
from bot.conversations.models import Conversation
from bot.dialogs import machine
from bot.dialogs.copy import Copy
from bot.dialogs.core import (
    AnnounceHandoff,
    Ctx,
    DeleteEverything,
    EndConversation,
    Input,
    RaiseUrgency,
    RequestHandoff,
    Result,
    SetContactPreference,
    StartOver,
    State,
)
from bot.dialogs.steps import consent, handed_off
from bot.messages import Inbound, Outbound
from nlp import risk as rules

log = logging.getLogger(__name__)

# After this many seconds without a new message while telling, the bot moves on by itself.
DEFAULT_TELLING_PAUSE_SECONDS = 120


class Engine:
    def __init__(
        self,
        *,
        analyzer,
        city: CityConfig,
        copy_path: Path | None = None,
        telling_pause_seconds: int = DEFAULT_TELLING_PAUSE_SECONDS,
        directory: Any = None,
    ) -> None:
        self.analyzer = analyzer
        self.city = city
        self.copy = Copy.load(city, copy_path)
        self.telling_pause = timedelta(seconds=telling_pause_seconds)
        self._directory = directory

    # --- the agency directory, loaded once when first needed ----------------------------------

    def directory(self) -> Any:
        if self._directory is None:
            try:
                from handoff.directory import load_directory

                self._directory = load_directory(self.city.agency_directory)
            except (ImportError, OSError, ValueError) as exc:
                log.warning("agency directory unavailable: %s", exc)
                self._directory = False
        return self._directory or None

    # --- one inbound message -------------------------------------------------------------------

    def handle(self, session: Session, inbound: Inbound) -> list[Outbound]:
        resident_id = inbound.resident_id
        conv = conversations.active_conversation(session, resident_id=resident_id)
        if inbound.kind == "unfollow":
            if conv is not None:
                conversations.append_event(
                    session, conversation_id=conv.id, author="resident", kind="unfollow"
                )
            return []

        if conv is not None:
            # Lock the row (PostgreSQL) so the pause timer in `tick` cannot step the same
            # conversation at the same moment; it skips locked rows.
            conv = session.get(Conversation, conv.id, with_for_update=True, populate_existing=True)
        case_status = self._case_status(session, resident_id)
        fresh = conv is None
        if conv is not None and conv.consented and case_status is None:
            # Staff closed the case (or it was withdrawn): the next message starts fresh.
            conv.active = False
            conv = None
        if conv is None:
            conv = conversations.start_conversation(session, resident_id=resident_id, state=State.START.value)
            if not fresh:
                conv.data = {"returning": True}
        idle = None if conv.state == State.START else inbound.at - conv.last_activity_at

        risk, hint = self._crisis(inbound)
        # A tapped button is logged with the words the resident saw on it, so staff read the chat
        # as it looked on the phone.
        shown = (conv.data or {}).get("buttons", {}).get(inbound.data) if inbound.kind == "postback" else None
        conversations.append_event(
            session,
            conversation_id=conv.id,
            author="resident",
            kind=inbound.kind,
            text=inbound.text if inbound.text is not None else shown,
            payload={"data": inbound.data} if inbound.data else None,
            meta=_meta(state=conv.state, risk=risk, media_type=inbound.media_type),
        )
        ctx = self._ctx(conv, now=inbound.at, case_status=case_status, risk=risk)
        ctx.risk_hint = hint
        state = State(conv.state)
        result = machine.step(ctx, state, Input.from_inbound(inbound), idle=idle)
        return self._apply(session, conv, ctx, state, result, at=inbound.at)

    # --- time-driven steps ----------------------------------------------------------------------

    def tick(self, session: Session, now: datetime) -> list[tuple[int, list[Outbound]]]:
        """A pause while telling moves on to the reflection: (resident_id, messages to push)."""
        cutoff = now - self.telling_pause
        due = session.scalars(
            select(Conversation)
            .where(
                Conversation.active.is_(True),
                Conversation.state == State.TELLING.value,
                Conversation.last_activity_at < cutoff,
            )
            .with_for_update(skip_locked=True)
        ).all()
        pushes: list[tuple[int, list[Outbound]]] = []
        for conv in due:
            ctx = self._ctx(conv, now=now, case_status=None, risk=[])
            result = machine.pause(ctx, State.TELLING)
            if result is None:
                continue
            messages = self._apply(session, conv, ctx, State.TELLING, result, at=now)
            if messages:
                pushes.append((conv.resident_id, messages))
        return pushes

    # --- helpers --------------------------------------------------------------------------------

    def _ctx(self, conv: Conversation, *, now: datetime, case_status: str | None, risk: list[str]) -> Ctx:
        return Ctx(
            city=self.city,
            copy=self.copy,
            analyzer=self.analyzer,
            now=now,
            # A deep copy: the JSON column only notices a new value, and a failed step must not
            # leave half-changed data behind.
            data=copylib.deepcopy(conv.data or {}),
            directory=self.directory,
            case_status=case_status,
            risk=risk,
        )

    def _crisis(self, inbound: Inbound) -> tuple[list[str], bool]:
        """The message's risk flags and soft hint (nlp.Analyzer.crisis), never an exception."""
        if inbound.kind != "text" or not inbound.text:
            return [], False
        try:
            flags, hint = self.analyzer.crisis(inbound.text)
            return list(flags), hint
        except Exception:
            # Never leave a message unanswered because the check failed: fall back to the rules
            # alone (no model, no tokenizer; the hint is lost); the 緊急 word and the greeting's
            # numbers still work.
            log.exception("risk check failed; using the rules alone")
            try:
                return rules.detect(inbound.text), False
            except Exception:
                log.exception("risk rules failed")
                return [], False

    def _case_status(self, session: Session, resident_id: int) -> str | None:
        """None, "waiting" (in the staff queue) or "staff" (a staff member owns it)."""
        from handoff import service as handoff
        from handoff.models import IN_PROGRESS

        case = handoff.open_case_for_resident(session, resident_id=resident_id)
        if case is None:
            return None
        return "staff" if case.status == IN_PROGRESS else "waiting"

    def _apply(
        self, session: Session, conv: Conversation, ctx: Ctx, before: State, result: Result, *, at: datetime
    ) -> list[Outbound]:
        messages = list(result.messages)
        for effect in result.effects:
            if isinstance(effect, DeleteEverything):
                self._delete_everything(session, conv.resident_id)
                return messages  # nothing about this person is stored any more, not even this reply
            if isinstance(effect, StartOver):
                conv = conversations.start_conversation(
                    session, resident_id=conv.resident_id, state=result.state.value
                )
            elif isinstance(effect, EndConversation):
                conv.active = False
            elif isinstance(effect, RequestHandoff):
                self._request_handoff(session, conv, ctx, effect)
            elif isinstance(effect, SetContactPreference):
                from handoff import service as handoff

                handoff.update_contact_preference(
                    session, case_id=ctx.data["case_id"], preference=effect.preference, phone=effect.phone
                )
            elif isinstance(effect, AnnounceHandoff):
                from handoff import service as handoff

                ahead = handoff.queue_position(session, case_id=ctx.data["case_id"])
                messages += handed_off.announce(
                    ctx,
                    urgent=effect.urgent,
                    preference=effect.preference,
                    phone_given=effect.phone_given,
                    waiting_ahead=ahead,
                )
            elif isinstance(effect, RaiseUrgency):
                self._raise_urgency(session, conv, ctx)

        ctx.data["buttons"] = {q.data: q.label for m in messages for q in m.quick_replies if q.data}
        conv.state = result.state.value
        conv.data = ctx.data
        conv.last_activity_at = at
        conv.version = (conv.version or 0) + 1
        if result.state != before:
            conversations.append_event(
                session,
                conversation_id=conv.id,
                author="system",
                kind="state",
                meta={"from": before.value, "to": result.state.value},
            )
        for out in messages:
            conversations.append_event(
                session,
                conversation_id=conv.id,
                author="bot",
                kind="flex" if out.flex is not None else "text",
                text=out.text if out.text is not None else out.alt_text,
                payload=out.to_dict() if (out.flex is not None or out.quick_replies) else None,
                meta={"state": result.state.value},
            )
        session.flush()
        return messages

    def _request_handoff(
        self, session: Session, conv: Conversation, ctx: Ctx, effect: RequestHandoff
    ) -> None:
        from handoff import service as handoff
        from handoff.schemas import SheetDraft

        if effect.consent_kind == "urgent" or not ctx.data.get("sheet"):
            # One tap in a crisis: share what was said so far, drafted now.
            ctx.data["sheet"] = consent.build_sheet(ctx).model_dump(mode="json")
        version, text = consent.consent_text(ctx, effect.consent_kind)
        case = handoff.request_handoff(
            session,
            resident_id=conv.resident_id,
            conversation_id=conv.id,
            sheet=SheetDraft.model_validate(ctx.data["sheet"]),
            consent_text_version=version,
            consent_text=text,
            urgent=effect.urgent,
        )
        ctx.data["case_id"] = case.id
        ctx.data["consent"] = {"version": version, "kind": effect.consent_kind, "at": ctx.now.isoformat()}
        ctx.data["urgent"] = bool(ctx.data.get("urgent") or effect.urgent)
        conv.consented = True

    def _raise_urgency(self, session: Session, conv: Conversation, ctx: Ctx) -> None:
        """A waiting case whose resident just wrote something alarming goes to the top of the queue."""
        from handoff import service as handoff

        case = handoff.open_case_for_resident(session, resident_id=conv.resident_id)
        if case is None or case.conversation_id != conv.id:
            return
        sheet = handoff.latest_sheet(session, case_id=case.id)
        if sheet is None:
            return
        sheet.risk = sorted(set(sheet.risk) | set(ctx.risk))
        version = (ctx.data.get("consent") or {}).get("version") or str(self.copy.get("consent.version"))
        kind = (ctx.data.get("consent") or {}).get("kind") or "normal"
        handoff.request_handoff(
            session,
            resident_id=conv.resident_id,
            conversation_id=conv.id,
            sheet=sheet,
            consent_text_version=version,
            consent_text=consent.consent_text(ctx, kind)[1],
            urgent=True,
        )

    def _delete_everything(self, session: Session, resident_id: int) -> None:
        """削除: withdraw a case staff hold (they are told, without content), then delete it all."""
        from handoff import service as handoff

        handoff.withdraw_for_resident(session, resident_id=resident_id)
        conversations.delete_conversations(session, resident_id=resident_id)
        # The transport owns the inbox/outbox tables: ask it to forget this resident's traffic.
        try:
            from bot.line.service import delete_resident_traffic
        except ImportError:
            # Until the transport offers a full delete, at least nothing queued goes out any more.
            from bot.line.outbound import cancel_pending_for_resident

            cancel_pending_for_resident(session, resident_id=resident_id, reason="resident asked to delete")
        else:
            delete_resident_traffic(session, resident_id=resident_id)
        session.flush()


def _meta(*, state: str, risk: list[str], media_type: str | None) -> dict[str, Any]:
    meta: dict[str, Any] = {"state": state}
    if risk:
        meta["risk"] = risk
    if media_type:
        meta["media_type"] = media_type
    return meta
