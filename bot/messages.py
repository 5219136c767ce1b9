"""The channel boundary: plain inbound and outbound messages.

The LINE layer turns webhook events into `Inbound`; the dialogue returns `Outbound`; one sender
(bot.line.outbound) turns those into LINE requests. Nothing here knows about line-bot-sdk, so the
dialogue and the staff side can be driven and tested without HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

InboundKind = Literal[
    "text",  # the resident wrote words
    "postback",  # the resident tapped a button that carries `data`
    "follow",  # added the account as a friend (or unblocked it)
    "media",  # sticker, image, video, audio, file: we never download it
    "location",
    "unfollow",  # blocked the account: no more pushes
]


@dataclass(frozen=True)
class Inbound:
    resident_id: int
    kind: InboundKind
    at: datetime
    text: str | None = None
    data: str | None = None  # postback data
    media_type: str | None = None  # for kind == "media": "sticker", "image", ...
    unblocked: bool = False  # for kind == "follow"


@dataclass(frozen=True)
class QuickReply:
    """A quick-reply button. `data` set → postback (shows `text` in the chat); else a message."""

    label: str  # ≤ 20 characters (LINE's limit for a readable label)
    text: str | None = None
    data: str | None = None


@dataclass(frozen=True)
class Sender:
    """Who the resident sees as the author (LINE's `sender`), e.g. a staff member who took over."""

    name: str
    icon_url: str | None = None


@dataclass
class Outbound:
    """One message to the resident: text with optional quick replies, or a Flex message."""

    text: str | None = None
    quick_replies: list[QuickReply] = field(default_factory=list)
    flex: dict[str, Any] | None = None  # Flex "contents" (bubble or carousel) as LINE JSON
    alt_text: str | None = None  # required with flex; shown in notifications
    sender: Sender | None = None

    def __post_init__(self) -> None:
        if (self.text is None) == (self.flex is None):
            raise ValueError("an Outbound carries exactly one of text or flex")
        if self.flex is not None and not self.alt_text:
            raise ValueError("a Flex message needs alt_text")
        if len(self.quick_replies) > 13:
            raise ValueError("LINE allows at most 13 quick-reply items")
        for q in self.quick_replies:
            if len(q.label) > 20:
                raise ValueError(f"quick-reply label over 20 characters: {q.label!r}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "quick_replies": [q.__dict__ for q in self.quick_replies],
            "flex": self.flex,
            "alt_text": self.alt_text,
            "sender": self.sender.__dict__ if self.sender else None,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Outbound:
        return cls(
            text=d.get("text"),
            quick_replies=[QuickReply(**q) for q in d.get("quick_replies") or []],
            flex=d.get("flex"),
            alt_text=d.get("alt_text"),
            sender=Sender(**d["sender"]) if d.get("sender") else None,
        )
