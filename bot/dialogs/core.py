"""The vocabulary every step shares: states, inputs, effects, the step context and result.

Kept apart from machine.py so the step modules can import it without importing the machine.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from bot.city import CityConfig
from bot.dialogs.copy import Copy, normalize
from bot.messages import Inbound, Outbound, QuickReply


class State(StrEnum):
    START = "start"  # nothing said yet
    GREETED = "greeted"  # greeting shown, waiting for 「相談する」 or words
    ABOUT_WHOM = "about_whom"  # who is it about (4 buttons)
    TELLING = "telling"  # free text, several messages, until 「以上です」 or a pause
    REFLECT = "reflect"  # what we understood; 合っている / 直したい
    CORRECT_TOPICS = "correct_topics"  # add/remove topic buttons
    CORRECT_TEXT = "correct_text"  # anything to add in words
    FOLLOWUP = "followup"  # short skippable questions, one at a time
    PREVIEW = "preview"  # the draft つなぐシート + consent text; 同意する / 同意しない
    DECLINED = "declined"  # nothing shared; directory carousel shown
    CONTACT = "contact"  # LINE / phone / visit
    PHONE = "phone"  # optional phone number
    HANDED_OFF = "handed_off"  # in the staff queue (or staff own it: the bot is silent)
    CRISIS = "crisis"  # numbers shown; 今すぐ相談員につなぐ / このまま続ける
    CONFIRM_DELETE = "confirm_delete"  # 削除 asked; one confirmation
    RESUME = "resume"  # after a long silence: 続きから / 最初から
    ENDED = "ended"  # やめる: the conversation is closed


# --- effects: what the engine does for the machine (database, staff queue) -------------------


@dataclass(frozen=True)
class RequestHandoff:
    """Consent given: put the case in the staff queue with the previewed sheet."""

    urgent: bool = False
    consent_kind: str = "normal"  # normal | urgent (the one-tap crisis consent)


@dataclass(frozen=True)
class SetContactPreference:
    preference: str  # line | phone | visit
    phone: str | None = None


@dataclass(frozen=True)
class AnnounceHandoff:
    """Tell honestly when staff will read it and how many are waiting (needs the queue)."""

    urgent: bool = False
    preference: str | None = None
    phone_given: bool = False


@dataclass(frozen=True)
class RaiseUrgency:
    """A risk message arrived while the case waits: mark the queued case urgent."""


@dataclass(frozen=True)
class DeleteEverything:
    """削除 confirmed: conversations, events, LINE traffic rows; a held case is withdrawn."""


@dataclass(frozen=True)
class StartOver:
    """Close this conversation and continue in a fresh one (data already reset by the step)."""


@dataclass(frozen=True)
class EndConversation:
    """やめる: close the conversation; the next message starts fresh."""


Effect = (
    RequestHandoff
    | SetContactPreference
    | AnnounceHandoff
    | RaiseUrgency
    | DeleteEverything
    | StartOver
    | EndConversation
)


# --- input and context -------------------------------------------------------------------------


@dataclass(frozen=True)
class Input:
    kind: str  # text | postback | follow | media | location | unfollow | pause
    raw_text: str | None = None
    data: str | None = None

    @property
    def text(self) -> str:
        return normalize(self.raw_text)

    @property
    def has_words(self) -> bool:
        return self.kind == "text" and bool(self.text)

    @classmethod
    def from_inbound(cls, inbound: Inbound) -> Input:
        return cls(kind=inbound.kind, raw_text=(inbound.text or "").strip() or None, data=inbound.data)


@dataclass
class Ctx:
    """What a step may read and change. `data` is the conversation's (encrypted) working memory."""

    city: CityConfig
    copy: Copy
    analyzer: Any
    now: datetime
    data: dict[str, Any]
    directory: Callable[[], Any]  # lazily loaded agency directory (None when unavailable)
    case_status: str | None = None  # None | "waiting" | "staff"
    risk: list[str] = field(default_factory=list)  # flags of the current message
    # The softer signal (nlp Analyzer.risk_hint): no flag, but maybe a crisis. It only adds the
    # gentle numbers to the reply; it never changes the state, the sheet or the urgency.
    risk_hint: bool = False

    @property
    def writer(self) -> str:
        return self.data.get("writer") or "unknown"

    @property
    def words(self) -> list[str]:
        return self.data.setdefault("words", [])

    @property
    def answers(self) -> dict[str, Any]:
        return self.data.setdefault("answers", {})

    def t(self, key: str, **values: Any) -> str:
        return self.copy.text(key, **values)

    def button(self, label_key: str, action: str) -> QuickReply:
        label = self.copy.label(label_key)
        return QuickReply(label=label, text=label, data=action)

    def said(
        self, inp: Input, action: str, words_key: str | None = None, label_key: str | None = None
    ) -> bool:
        """Did the resident tap this button, or type its label or one of its words?"""
        if inp.kind == "postback":
            return inp.data == action
        if not inp.has_words:
            return False
        if label_key and inp.text == normalize(self.copy.text(label_key)):
            return True
        return bool(words_key) and inp.text in self.copy.words(words_key)


@dataclass
class Result:
    state: State
    messages: list[Outbound] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)


def say(text: str, buttons: list[QuickReply] | None = None) -> Outbound:
    return Outbound(text=text, quick_replies=list(buttons or []))


def option_buttons(options: list[str], action_prefix: str) -> list[QuickReply]:
    """Buttons for a list of short option labels; the postback carries the option's index."""
    return [QuickReply(label=o, text=o, data=f"{action_prefix}:{i}") for i, o in enumerate(options)]


def picked_option(inp: Input, options: list[str], action_prefix: str) -> str | None:
    """The option chosen by button or by typing its label, else None."""
    if inp.kind == "postback" and inp.data and inp.data.startswith(action_prefix + ":"):
        try:
            return options[int(inp.data.rsplit(":", 1)[1])]
        except (ValueError, IndexError):
            return None
    if inp.has_words:
        for o in options:
            if inp.text == normalize(o):
                return o
    return None
