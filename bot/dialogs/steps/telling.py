"""Step 3: tell us freely. Several messages; brief acknowledgements; 「以上です」 or a pause moves on."""

from __future__ import annotations

from bot.dialogs.core import Ctx, Input, Result, State, say
from bot.messages import Outbound


def _done_button(ctx: Ctx):
    return ctx.button("telling.done_label", "tell:done")


def enter(ctx: Ctx) -> list[Outbound]:
    prompts = ctx.copy.get("telling.prompt")
    text = ctx.copy.fill(prompts.get(ctx.writer) or prompts["unknown"])
    if ctx.words:
        text = ctx.t("about_whom.kept_first_words") + "\n" + text
    return [say(text, [_done_button(ctx)])]


def ack(ctx: Ctx) -> Outbound:
    acks = ctx.copy.get("telling.acks")
    n = ctx.data.get("acks", 0)
    ctx.data["acks"] = n + 1
    return say(ctx.copy.fill(acks[n % len(acks)]), [_done_button(ctx)])


def on_input(ctx: Ctx, inp: Input) -> Result:
    from bot.dialogs.steps import reflect

    if ctx.said(inp, "tell:done", "telling.done_words", "telling.done_label"):
        if not ctx.words:
            return Result(State.TELLING, [say(ctx.t("telling.nothing_yet"))])
        return reflect.begin(ctx)
    if inp.has_words:
        ctx.words.append(inp.raw_text)
        return Result(State.TELLING, [ack(ctx)])
    return Result(State.TELLING, enter(ctx))


def on_pause(ctx: Ctx) -> Result | None:
    """Called by the engine's tick when the resident stopped writing for a while."""
    from bot.dialogs.steps import reflect

    if not ctx.words:
        return None
    result = reflect.begin(ctx)
    result.messages.insert(0, say(ctx.t("telling.pause_note")))
    return result
