"""Step 4b: correct what we understood — toggle topics with buttons, then add words."""

from __future__ import annotations

from bot.dialogs.copy import normalize
from bot.dialogs.core import Ctx, Input, Result, State, say
from bot.dialogs.steps.reflect import TOPICS, analyze_words, topic_lines, topics_of
from bot.messages import Outbound, QuickReply


def _topic_buttons(ctx: Ctx) -> list[QuickReply]:
    chosen = set(ctx.data.get("topics") or [])
    buttons = []
    for t in TOPICS:
        prefix = ctx.t("correct.remove_prefix" if t in chosen else "correct.add_prefix")
        label = prefix + ctx.copy.label(f"topic_labels.{t}")
        buttons.append(QuickReply(label=label[:20], text=label[:20], data=f"topic:{t}"))
    buttons.append(ctx.button("correct.finish_label", "topics:done"))
    return buttons


def enter_topics(ctx: Ctx, *, lead: str | None = None) -> list[Outbound]:
    topics = ctx.data.setdefault("topics", [])
    lines = [lead] if lead else []
    lines.append(ctx.t("correct.question"))
    lines += topic_lines(ctx, topics) or [ctx.t("correct.current_none")]
    return [say("\n".join(lines), _topic_buttons(ctx))]


def _toggled(ctx: Ctx, inp: Input) -> str | None:
    if inp.kind == "postback" and inp.data and inp.data.startswith("topic:"):
        t = inp.data.split(":", 1)[1]
        return t if t in TOPICS else None
    if inp.has_words:
        typed = inp.text.lstrip("+-＋－ ")
        for t in TOPICS:
            if typed == normalize(ctx.copy.text(f"topic_labels.{t}")):
                return t
    return None


def _merge_new_words(ctx: Ctx, text: str) -> None:
    """Words typed during the correction add their topics; the resident's toggles stay."""
    ctx.words.append(text)
    topics = ctx.data.setdefault("topics", [])
    for t in topics_of(analyze_words(ctx, [text])):
        if t not in topics:
            topics.append(t)
    # Keep the stored analysis (summary, facts) in step with everything said.
    ctx.data["analysis"] = analyze_words(ctx, ctx.words)
    ctx.data["analyzed_words"] = len(ctx.words)


def on_topics(ctx: Ctx, inp: Input) -> Result:
    topic = _toggled(ctx, inp)
    if topic:
        topics = ctx.data.setdefault("topics", [])
        if topic in topics:
            topics.remove(topic)
        else:
            topics.append(topic)
        return Result(State.CORRECT_TOPICS, enter_topics(ctx))
    if ctx.said(inp, "topics:done", "reflect.yes_words", "correct.finish_label"):
        return Result(State.CORRECT_TEXT, enter_text(ctx))
    if inp.has_words:
        _merge_new_words(ctx, inp.raw_text or "")
        return Result(State.CORRECT_TOPICS, enter_topics(ctx, lead=ctx.t("correct.thanks")))
    return Result(State.CORRECT_TOPICS, enter_topics(ctx))


def enter_text(ctx: Ctx) -> list[Outbound]:
    return [say(ctx.t("correct.text_question"), [ctx.button("correct.text_skip_label", "fixtext:skip")])]


def on_text(ctx: Ctx, inp: Input) -> Result:
    from bot.dialogs.steps import followups

    if ctx.said(inp, "fixtext:skip", "followups.skip_words", "correct.text_skip_label"):
        return followups.begin(ctx)
    if inp.has_words:
        _merge_new_words(ctx, inp.raw_text or "")
        result = followups.begin(ctx)
        result.messages.insert(0, say(ctx.t("correct.thanks")))
        return result
    return Result(State.CORRECT_TEXT, enter_text(ctx))
