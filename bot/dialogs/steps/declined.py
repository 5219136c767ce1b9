"""同意しない: nothing is shared, but the bot still helps — where to go, and how to come back."""

from __future__ import annotations

from bot.dialogs import flex
from bot.dialogs.core import Ctx, Input, RequestHandoff, Result, StartOver, State, say
from bot.dialogs.steps.reflect import effective_analysis
from bot.messages import Outbound

SUGGESTIONS = 5


def directory_messages(ctx: Ctx) -> list[Outbound]:
    analysis = effective_analysis(ctx)
    directory = ctx.directory()
    agencies = []
    if directory is not None:
        agencies = directory.suggest(
            analysis.get("categories") or [], analysis.get("subcategories") or [], limit=SUGGESTIONS
        )
    if not agencies:
        return [say(ctx.t("declined.no_directory"))]
    bubbles = [
        flex.agency_bubble(
            a,
            phone_label=ctx.t("declined.card_phone"),
            hours_label=ctx.t("declined.card_hours"),
            call_label=ctx.t("declined.card_call_label"),
        )
        for a in agencies
    ]
    return [Outbound(flex=flex.carousel(bubbles), alt_text=ctx.t("declined.alt_text"))]


def come_back(ctx: Ctx) -> Outbound:
    buttons = [
        ctx.button("declined.reconsider_label", "declined:consent"),
        ctx.button("declined.restart_label", "g:restart"),
    ]
    return say(ctx.t("declined.come_back"), buttons)


def enter(ctx: Ctx) -> list[Outbound]:
    return [say(ctx.t("declined.text")), *directory_messages(ctx), come_back(ctx)]


def on_input(ctx: Ctx, inp: Input) -> Result:
    from bot.dialogs.steps import about, contact

    if ctx.said(inp, "declined:consent", label_key="declined.reconsider_label"):
        return Result(
            State.CONTACT, contact.enter(ctx), [RequestHandoff(urgent=bool(ctx.data.get("urgent")))]
        )
    if inp.has_words:
        # A new worry after declining: begin a fresh conversation that keeps these words.
        ctx.data.clear()
        ctx.words.append(inp.raw_text)
        return Result(State.ABOUT_WHOM, about.enter(ctx), [StartOver()])
    return Result(State.DECLINED, [come_back(ctx)])
