"""The dialogue engine: one inbound message in, a dialogue step, outbound messages back.

Transport calls `Engine.handle` inside the unit of work that marks the inbox event done and
stores the outbox rows, so a step is applied exactly once. Nothing here imports line-bot-sdk.

PLACEHOLDER until the dialogue issue lands: a polite greeting and an echo of understanding.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.city import CityConfig
from bot.conversations import service as conversations
from bot.messages import Inbound, Outbound


class Engine:
    def __init__(self, *, analyzer, city: CityConfig) -> None:
        self.analyzer = analyzer
        self.city = city

    def handle(self, session: Session, inbound: Inbound) -> list[Outbound]:
        conv = conversations.active_conversation(session, resident_id=inbound.resident_id)
        if conv is None:
            conv = conversations.start_conversation(session, resident_id=inbound.resident_id, state="start")
        conversations.append_event(
            session, conversation_id=conv.id, author="resident", kind=inbound.kind, text=inbound.text
        )
        if inbound.kind == "media":
            reply = "ありがとうございます。よろしければ、言葉で書いて送ってください。"
        elif inbound.kind == "follow":
            reply = f"{self.city.desk_name}です。困っていることを、自由に書いてください。"
        else:
            reply = "お話ししてくださって、ありがとうございます。受け取りました。"
        conversations.append_event(session, conversation_id=conv.id, author="bot", kind="text", text=reply)
        return [Outbound(text=reply)]

    def tick(self, session: Session, now: datetime) -> list[tuple[int, list[Outbound]]]:
        """Time-driven steps (a pause after free text, …): (resident_id, messages to push)."""
        return []
