"""Safety first, at any step, day or night.

A message with a risk flag gets, in the very next reply and before anything else, the numbers for
that flag from the city's configuration, in a calm voice. Then an offer: connect to staff now
(one tap is the consent; the case enters the queue as urgent) or carry on. Without that tap
nothing reaches staff. When a case already exists, the numbers go out and the message stays in
the log staff read.
"""

from __future__ import annotations

from bot.dialogs.core import (
    AnnounceHandoff,
    Ctx,
    Input,
    RaiseUrgency,
    RequestHandoff,
    Result,
    State,
    say,
)
from bot.messages import Outbound

FLAG_ORDER = ("suicide_risk", "violence_risk", "medical_emergency")


def _ordered(flags: list[str]) -> list[str]:
    known = [f for f in FLAG_ORDER if f in flags]
    return known + [f for f in dict.fromkeys(flags) if f not in FLAG_ORDER]


def _number_lines(ctx: Ctx, flag: str) -> list[str]:
    return [
        ctx.t("crisis.number_line", name=n.name, number=n.number, hours=n.hours, note=n.note).rstrip()
        for n in ctx.city.safety_numbers.get(flag, [])
    ]


def numbers_message(ctx: Ctx, flags: list[str]) -> Outbound:
    parts: list[str] = []
    for flag in _ordered(flags):
        intros = ctx.copy.get("crisis.intro")
        if flag in intros:
            parts.append(ctx.copy.fill(intros[flag]))
        parts += _number_lines(ctx, flag)
        parts.append("")
    return say("\n".join(parts).strip())


def all_numbers(ctx: Ctx) -> Outbound:
    parts = [ctx.t("crisis.all_intro")]
    for flag in _ordered(list(ctx.city.safety_numbers)):
        parts += _number_lines(ctx, flag)
    return say("\n".join(parts))


def gentle_numbers(ctx: Ctx) -> Outbound:
    """The soft hint's message: a kind line and the first (main) number of each flag."""
    lines = [ctx.t("crisis.hint_intro")]
    for flag in _ordered(list(ctx.city.safety_numbers)):
        lines += _number_lines(ctx, flag)[:1]
    return say("\n".join(lines))


def offer(ctx: Ctx) -> Outbound:
    text = ctx.t("crisis.offer") + "\n" + ctx.t("consent.urgent_text")
    if not ctx.city.is_open(ctx.now):
        text += "\n" + ctx.t(
            "crisis.offer_after_hours",
            next_opening=ctx.copy.when(ctx.city.next_opening(ctx.now), now=ctx.now),
        )
    buttons = [
        ctx.button("crisis.connect_label", "crisis:connect"),
        ctx.button("crisis.continue_label", "crisis:continue"),
    ]
    return say(text, buttons)


def respond(ctx: Ctx, state: State, flags: list[str], reprompt: list[Outbound]) -> Result:
    """The reply to a message that carries risk flags, whatever the state."""
    ctx.data["risk"] = sorted(set(ctx.data.get("risk") or []) | set(flags))
    numbers = numbers_message(ctx, flags)
    if ctx.case_status is not None:
        # Already with staff: numbers now; the message itself is in the log they read.
        numbers.text = f"{numbers.text}\n\n{ctx.t('crisis.connected_case_note')}"
        effects = [RaiseUrgency()] if ctx.case_status == "waiting" else []
        return Result(state, [numbers, *reprompt], effects)
    if state != State.CRISIS:
        # From the very first message there is nothing to go back to but the next question.
        ctx.data["crisis_return"] = State.ABOUT_WHOM if state == State.START else state
    return Result(State.CRISIS, [numbers, offer(ctx)])


def wants_connect(ctx: Ctx, inp: Input) -> bool:
    return ctx.said(inp, "crisis:connect", label_key="crisis.connect_label") or (
        inp.has_words and inp.text in ctx.copy.words("crisis.connect_words")
    )


def wants_continue(ctx: Ctx, inp: Input) -> bool:
    return ctx.said(inp, "crisis:continue", label_key="crisis.continue_label")


def connect_now() -> Result:
    return Result(
        State.HANDED_OFF,
        [],
        [RequestHandoff(urgent=True, consent_kind="urgent"), AnnounceHandoff(urgent=True)],
    )
