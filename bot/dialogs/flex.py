"""Flex message contents (LINE JSON) for the sheet preview and the agency directory carousel."""

from __future__ import annotations

import re
from typing import Any

WORD_MAX = 400  # one resident message shown in the preview; longer ones are cut with "…"
WORDS_SHOWN = 12


def _text(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "text", "text": text or " ", "wrap": True, **style}


def _section(label: str, value: str) -> dict[str, Any]:
    return {
        "type": "box",
        "layout": "vertical",
        "spacing": "xs",
        "contents": [_text(label, size="xs", color="#888888"), _text(value, size="sm")],
    }


def is_cut(words: list[str]) -> bool:
    return len(words) > WORDS_SHOWN or any(len(w) > WORD_MAX for w in words)


def sheet_bubble(
    *,
    title: str,
    rows: list[tuple[str, str]],
    words_label: str,
    words: list[str],
    words_more: str | None,
    footer: str,
) -> dict[str, Any]:
    """The draft つなぐシート as the resident will see it: every row that will be shared."""
    body: list[dict[str, Any]] = [_section(label, value) for label, value in rows]
    shown = [w if len(w) <= WORD_MAX else w[:WORD_MAX] + "…" for w in words[:WORDS_SHOWN]]
    word_box = [_text(words_label, size="xs", color="#888888")]
    word_box += [_text("「" + w + "」", size="sm") for w in shown]
    if words_more:
        word_box.append(_text(words_more, size="xs", color="#888888"))
    body.append({"type": "box", "layout": "vertical", "spacing": "xs", "contents": word_box})
    return {
        "type": "bubble",
        "size": "giga",
        "header": {"type": "box", "layout": "vertical", "contents": [_text(title, weight="bold", size="md")]},
        "body": {"type": "box", "layout": "vertical", "spacing": "md", "contents": body},
        "footer": {
            "type": "box",
            "layout": "vertical",
            "contents": [_text(footer, size="xs", color="#888888")],
        },
    }


def dialable(phone: str) -> str | None:
    """A tel: target when the directory's phone is a real number (the sample's are not)."""
    digits = re.sub(r"[^0-9#+]", "", phone.split("（")[0])
    return digits if len(digits) >= 3 and "見本" not in phone else None


def agency_bubble(agency: Any, *, phone_label: str, hours_label: str, call_label: str) -> dict[str, Any]:
    contents = [
        _text(getattr(agency, "topic", "") or " ", size="xs", color="#888888"),
        _text(agency.name, weight="bold", size="md"),
    ]
    what = getattr(agency, "consultation", "") or getattr(agency, "notes", "")
    if what:
        contents.append(_text(what, size="sm"))
    if getattr(agency, "department", ""):
        contents.append(_text(agency.department, size="xs", color="#666666"))
    if agency.phone:
        contents.append(_text(f"{phone_label}：{agency.phone}", size="sm"))
    if agency.hours:
        contents.append(_text(f"{hours_label}：{agency.hours}", size="sm"))
    bubble: dict[str, Any] = {
        "type": "bubble",
        "size": "kilo",
        "body": {"type": "box", "layout": "vertical", "spacing": "sm", "contents": contents},
    }
    target = dialable(agency.phone or "")
    if target:
        bubble["footer"] = {
            "type": "box",
            "layout": "vertical",
            "contents": [
                {
                    "type": "button",
                    "style": "link",
                    "height": "sm",
                    "action": {"type": "uri", "label": call_label, "uri": f"tel:{target}"},
                }
            ],
        }
    return bubble


def carousel(bubbles: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "carousel", "contents": bubbles[:12]}
