"""Step 1: who we are, that it is free and anonymous, when people read it, the 24-hour numbers."""

from __future__ import annotations

from bot.dialogs.core import Ctx, Input, Result, State, say
from bot.dialogs.steps import about
from bot.messages import Outbound


def safety_summary(ctx: Ctx) -> str:
    """The first number for each risk flag: short enough to sit under the greeting."""
    lines = [ctx.t("greeting.numbers_intro")]
    for numbers in ctx.city.safety_numbers.values():
        if numbers:
            n = numbers[0]
            lines.append(ctx.t("greeting.number_line", name=n.name, number=n.number, hours=n.hours))
    return "\n".join(lines)


def greeting_messages(ctx: Ctx, *, with_button: bool) -> list[Outbound]:
    text = ctx.t("greeting.text")
    if ctx.data.pop("returning", False):
        text = ctx.t("greeting.welcome_back") + "\n" + text
    if not ctx.city.is_open(ctx.now):
        text += "\n" + ctx.t(
            "greeting.after_hours", next_opening=ctx.copy.when(ctx.city.next_opening(ctx.now), now=ctx.now)
        )
    buttons = [ctx.button("greeting.start_label", "start")] if with_button else []
    return [say(text), say(safety_summary(ctx), buttons)]


def enter(ctx: Ctx) -> list[Outbound]:
    return greeting_messages(ctx, with_button=True)


def on_start(ctx: Ctx, inp: Input) -> Result:
    """The very first contact: a follow, or a first message that may already be the worry itself."""
    if ctx.said(inp, "start", label_key="greeting.start_label"):
        return Result(State.ABOUT_WHOM, greeting_messages(ctx, with_button=False) + about.enter(ctx))
    if inp.has_words:
        ctx.words.append(inp.raw_text)
        return Result(State.ABOUT_WHOM, greeting_messages(ctx, with_button=False) + about.enter(ctx))
    return Result(State.GREETED, enter(ctx))


def on_input(ctx: Ctx, inp: Input) -> Result:
    if ctx.said(inp, "start", label_key="greeting.start_label"):
        return Result(State.ABOUT_WHOM, about.enter(ctx))
    if inp.has_words:
        ctx.words.append(inp.raw_text)
        return Result(State.ABOUT_WHOM, about.enter(ctx))
    return Result(State.GREETED, [enter(ctx)[-1]])
