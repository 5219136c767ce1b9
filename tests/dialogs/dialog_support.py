"""Helpers shared by the dialogue tests (imported as a plain module; tests/ is not a package)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from handoff.models import Case

SUICIDE_TEXT = "もう死にたいです"
HIKIKOMORI_TEXT = "息子が10年ひきこもっています。"
YORISOI = "0120-279-338"

# How to reach each state from a fresh resident: (action, argument) pairs.
_TELLING = [("follow", None), ("tap", "相談する"), ("tap", "家族のこと")]
_REFLECT = [*_TELLING, ("say", HIKIKOMORI_TEXT), ("tap", "以上です")]
_PREVIEW = [*_REFLECT, ("say", "人と話したい")]
_CONTACT = [*_PREVIEW, ("tap", "同意する")]
PATHS: dict[str, list[tuple[str, str | None]]] = {
    "start": [],
    "greeted": [("follow", None)],
    "about_whom": [("follow", None), ("tap", "相談する")],
    "telling": _TELLING,
    "reflect": _REFLECT,
    "correct_topics": [*_REFLECT, ("tap", "直したい")],
    "correct_text": [*_REFLECT, ("tap", "直したい"), ("tap", "これでよい")],
    "followup": [*_REFLECT, ("tap", "合っている")],
    "preview": _PREVIEW,
    "declined": [*_PREVIEW, ("tap", "同意しない")],
    "contact": _CONTACT,
    "phone": [*_CONTACT, ("tap", "電話がほしい")],
    "handed_off": [*_CONTACT, ("tap", "このままLINEで")],
    "crisis": [*_TELLING, ("say", "夫に殴られてけがをしました")],
    "confirm_delete": [*_TELLING, ("say", "削除")],
    "resume": [*_TELLING, ("say", "母のことです"), ("say_later", "こんにちは")],
    "ended": [*_TELLING, ("say", "やめる")],
}
# States in which a case is already in the staff queue.
WITH_CASE = {"contact", "phone", "handed_off"}


def walk(chat, state: str):
    reply = None
    for action, arg in PATHS[state]:
        if action == "follow":
            reply = chat.follow()
        elif action == "tap":
            reply = chat.tap(arg)
        elif action == "say":
            reply = chat.say(arg)
        elif action == "say_later":
            reply = chat.say(arg, advance=timedelta(hours=25))
    expected = None if state == "ended" else state
    if state != "start":
        assert chat.last.state == expected, f"walking to {state}: ended in {chat.last.state}\n{chat.log}"
    return reply


def cases_of(session_factory, resident_id: int) -> list[Case]:
    with session_factory() as session:
        return list(session.scalars(select(Case).where(Case.resident_id == resident_id)))
