"""Step 7: how staff should reach the resident. The phone number is optional and asked only here."""

from __future__ import annotations

import re
import unicodedata

from bot.dialogs.core import AnnounceHandoff, Ctx, Input, Result, SetContactPreference, State, say
from bot.messages import Outbound

PREFERENCES = ("line", "phone", "visit")
_PHONE = re.compile(r"^(\+81|0)\d{9,10}$")


def phone_number(text: str) -> str | None:
    """A Japanese phone number in what they typed, kept as typed (digits and hyphens)."""
    t = unicodedata.normalize("NFKC", text)
    m = re.search(r"(\+81|0)[0-9\-() ]{8,16}[0-9]", t)
    if not m:
        return None
    digits = re.sub(r"[^0-9+]", "", m.group(0))
    return m.group(0).strip() if _PHONE.match(digits) else None


def enter(ctx: Ctx) -> list[Outbound]:
    buttons = [ctx.button(f"contact.options.{p}", f"contact:{p}") for p in PREFERENCES]
    return [say(ctx.t("contact.question"), buttons)]


def _done(ctx: Ctx, preference: str, phone: str | None, lead: list[Outbound] | None = None) -> Result:
    ctx.answers["contact_preference"] = preference
    if phone:
        ctx.answers["phone"] = phone
    effects = [
        SetContactPreference(preference=preference, phone=phone),
        AnnounceHandoff(urgent=bool(ctx.data.get("urgent")), preference=preference, phone_given=bool(phone)),
    ]
    return Result(State.HANDED_OFF, list(lead or []), effects)


def on_input(ctx: Ctx, inp: Input) -> Result:
    chosen = next(
        (p for p in PREFERENCES if ctx.said(inp, f"contact:{p}", label_key=f"contact.options.{p}")), None
    )
    if chosen is None and inp.has_words:
        number = phone_number(inp.raw_text or "")
        if number:
            return _done(ctx, "phone", number)
        if any(cue in inp.text for cue in ctx.copy.get("contact.phone_cues")):
            chosen = "phone"
        elif any(cue in inp.text for cue in ctx.copy.get("contact.visit_cues")):
            chosen = "visit"
        else:
            chosen = "line"  # anything else: staff answer here, the simplest for the resident
    if chosen is None:
        return Result(State.CONTACT, enter(ctx))
    if chosen == "phone":
        return Result(State.PHONE, enter_phone(ctx))
    if chosen == "visit":
        return _done(ctx, "visit", None, [say(ctx.t("contact.visit_note"))])
    return _done(ctx, "line", None)


def enter_phone(ctx: Ctx) -> list[Outbound]:
    return [say(ctx.t("contact.phone_question"), [ctx.button("contact.phone_skip_label", "phone:skip")])]


def on_phone(ctx: Ctx, inp: Input) -> Result:
    if ctx.said(inp, "phone:skip", "followups.skip_words", "contact.phone_skip_label"):
        return _done(ctx, "phone", None)
    if inp.has_words:
        number = phone_number(inp.raw_text or "")
        if number:
            return _done(ctx, "phone", number)
        return Result(
            State.PHONE,
            [say(ctx.t("contact.phone_invalid"), [ctx.button("contact.phone_skip_label", "phone:skip")])],
        )
    return Result(State.PHONE, enter_phone(ctx))
