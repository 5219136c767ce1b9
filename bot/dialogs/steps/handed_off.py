"""Step 8: handed off. Honest about when staff will read it and how many are waiting."""

from __future__ import annotations

from bot.dialogs.core import Ctx, Input, Result, State, say
from bot.messages import Outbound


def announce(
    ctx: Ctx, *, urgent: bool, preference: str | None, phone_given: bool, waiting_ahead: int
) -> list[Outbound]:
    h = "handed_off"
    lines = [ctx.t(f"{h}.urgent_sent" if urgent else f"{h}.sent")]
    if preference == "phone" and not phone_given:
        lines.append(ctx.t(f"{h}.preference.phone_no_number"))
    elif preference:
        lines.append(ctx.t(f"{h}.preference.{preference}"))
    is_open = ctx.city.is_open(ctx.now)
    if is_open:
        lines.append(ctx.t(f"{h}.open_now"))
    else:
        opening = ctx.copy.when(ctx.city.next_opening(ctx.now), now=ctx.now)
        lines.append(ctx.t(f"{h}.closed_now", next_opening=opening))
    lines.append(
        ctx.t(f"{h}.waiting_some", count=waiting_ahead) if waiting_ahead else ctx.t(f"{h}.waiting_none")
    )
    lines.append(ctx.t(f"{h}.meanwhile"))
    if not is_open:
        lines.append(ctx.t(f"{h}.after_hours_safety"))
    return [say("\n".join(lines))]


def on_input(ctx: Ctx, inp: Input) -> Result:
    """While the case waits: every message reaches the log staff read; a short acknowledgement.

    While staff own the case the bot is silent: they are talking with the resident themselves.
    """
    if ctx.case_status == "staff":
        return Result(State.HANDED_OFF, [])
    if inp.has_words:
        return Result(State.HANDED_OFF, [say(ctx.t("handed_off.waiting_ack"))])
    return Result(State.HANDED_OFF, [])
