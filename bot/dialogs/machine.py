"""The dialogue as an explicit state machine: plain input in, plain messages and effects out.

    START ──follow/words──▶ GREETED ──相談する──▶ ABOUT_WHOM ──▶ TELLING ──以上です/pause──▶ REFLECT
    REFLECT ──合っている──▶ FOLLOWUP ──(all answered or skipped)──▶ PREVIEW
    REFLECT ──直したい──▶ CORRECT_TOPICS ──これでよい──▶ CORRECT_TEXT ──▶ FOLLOWUP
    PREVIEW ──同意する──▶ CONTACT ──▶ (PHONE) ──▶ HANDED_OFF        PREVIEW ──同意しない──▶ DECLINED
    anywhere: risk ▶ CRISIS (今すぐ相談員につなぐ ▶ HANDED_OFF, or back) · 削除 ▶ CONFIRM_DELETE
              最初から ▶ ABOUT_WHOM · やめる ▶ ENDED · 人と話したい ▶ PREVIEW · 緊急/ヘルプ: same state
              long silence ▶ RESUME (続きから ▶ back, 最初から ▶ ABOUT_WHOM)

The machine never touches the database: the engine (bot/engine.py) loads the state, runs `step`,
applies the effects (handoff, contact preference, deletion, …) and stores the new state.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from bot.dialogs import crisis
from bot.dialogs.core import (
    Ctx,
    DeleteEverything,
    EndConversation,
    Input,
    Result,
    StartOver,
    State,
    say,
)
from bot.dialogs.steps import (
    about,
    consent,
    contact,
    correct,
    declined,
    followups,
    greeting,
    handed_off,
    reflect,
    telling,
)
from bot.messages import Outbound

log = logging.getLogger(__name__)
S = State

# Where each state may go on its own (global words, crisis, deletion and resume come on top).
TRANSITIONS: dict[State, tuple[State, ...]] = {
    S.START: (S.GREETED, S.ABOUT_WHOM),
    S.GREETED: (S.ABOUT_WHOM,),
    S.ABOUT_WHOM: (S.TELLING,),
    S.TELLING: (S.REFLECT, S.CORRECT_TOPICS),
    S.REFLECT: (S.CORRECT_TOPICS, S.FOLLOWUP, S.PREVIEW),
    S.CORRECT_TOPICS: (S.CORRECT_TEXT,),
    S.CORRECT_TEXT: (S.FOLLOWUP, S.PREVIEW),
    S.FOLLOWUP: (S.PREVIEW,),
    S.PREVIEW: (S.CONTACT, S.DECLINED),
    S.DECLINED: (S.CONTACT, S.ABOUT_WHOM),
    S.CONTACT: (S.PHONE, S.HANDED_OFF),
    S.PHONE: (S.HANDED_OFF,),
    S.HANDED_OFF: (),
    S.CRISIS: tuple(State),  # connected now (HANDED_OFF), or back where the resident was
    S.CONFIRM_DELETE: tuple(State),  # deleted (ENDED), or back where they were
    S.RESUME: tuple(State),  # continue where they were, or start over
    S.ENDED: (),
}
ANYWHERE = (S.CRISIS, S.CONFIRM_DELETE, S.RESUME, S.ABOUT_WHOM, S.ENDED, S.PREVIEW)

HANDLERS: dict[State, Callable[[Ctx, Input], Result]] = {
    S.START: greeting.on_start,
    S.GREETED: greeting.on_input,
    S.ABOUT_WHOM: about.on_input,
    S.TELLING: telling.on_input,
    S.REFLECT: reflect.on_input,
    S.CORRECT_TOPICS: correct.on_topics,
    S.CORRECT_TEXT: correct.on_text,
    S.FOLLOWUP: followups.on_input,
    S.PREVIEW: consent.on_input,
    S.DECLINED: declined.on_input,
    S.CONTACT: contact.on_input,
    S.PHONE: contact.on_phone,
    S.HANDED_OFF: handed_off.on_input,
}

# What to say again to bring the resident back to the open question of a state.
ENTER: dict[State, Callable[[Ctx], list[Outbound]]] = {
    S.START: lambda ctx: [],
    S.GREETED: greeting.enter,
    S.ABOUT_WHOM: about.enter,
    S.TELLING: telling.enter,
    S.REFLECT: reflect.enter,
    S.CORRECT_TOPICS: correct.enter_topics,
    S.CORRECT_TEXT: correct.enter_text,
    S.FOLLOWUP: followups.enter,
    S.PREVIEW: consent.enter,
    S.DECLINED: lambda ctx: [declined.come_back(ctx)],
    S.CONTACT: contact.enter,
    S.PHONE: contact.enter_phone,
    S.HANDED_OFF: lambda ctx: [],
    S.CRISIS: lambda ctx: [crisis.offer(ctx)],
    S.CONFIRM_DELETE: lambda ctx: [delete_question(ctx)],
    S.RESUME: lambda ctx: [resume_question(ctx)],
    S.ENDED: lambda ctx: [],
}
# A lighter reminder after ヘルプ / 緊急 / a sticker (no need to resend a whole preview).
REMIND: dict[State, Callable[[Ctx], list[Outbound]]] = {
    **ENTER,
    S.PREVIEW: lambda ctx: [consent.consent_question(ctx)],
}

# States worth resuming after a long silence (not the start, nor a case already with staff).
RESUMABLE = {
    S.GREETED,
    S.ABOUT_WHOM,
    S.TELLING,
    S.REFLECT,
    S.CORRECT_TOPICS,
    S.CORRECT_TEXT,
    S.FOLLOWUP,
    S.PREVIEW,
    S.CRISIS,
}
GLOBALS = ("restart", "quit", "human", "emergency", "help", "delete")
# Once a case is with staff, only these still act (the rest are words for staff to read).
GLOBALS_WITH_CASE = {"emergency", "help", "delete"}


def delete_question(ctx: Ctx) -> Outbound:
    buttons = [
        ctx.button("globals.delete_yes_label", "delete:yes"),
        ctx.button("globals.delete_no_label", "delete:no"),
    ]
    return say(ctx.t("globals.delete_confirm"), buttons)


def resume_question(ctx: Ctx) -> Outbound:
    buttons = [
        ctx.button("resume.continue_label", "resume:continue"),
        ctx.button("resume.restart_label", "g:restart"),
    ]
    return say(ctx.t("resume.question"), buttons)


def global_command(ctx: Ctx, inp: Input) -> str | None:
    if inp.kind == "postback" and inp.data and inp.data.startswith("g:"):
        name = inp.data[2:]
        return name if name in GLOBALS else None
    if inp.has_words:
        return next((g for g in GLOBALS if inp.text in ctx.copy.words(f"globals.{g}")), None)
    return None


def _restart(ctx: Ctx, keep_words: list[str] | None = None) -> Result:
    ctx.data.clear()
    ctx.words.extend(keep_words or [])
    return Result(S.ABOUT_WHOM, [say(ctx.t("globals.restarted")), *about.enter(ctx)], [StartOver()])


def run_global(ctx: Ctx, state: State, name: str) -> Result:
    if name == "restart":
        return _restart(ctx)
    if name == "quit":
        return Result(S.ENDED, [say(ctx.t("globals.quit_reply"))], [EndConversation()])
    if name == "human":
        ctx.data.pop("fu_queue", None)
        return Result(S.PREVIEW, [say(ctx.t("globals.human_reply")), *consent.enter(ctx)])
    if name == "emergency":
        return Result(state, [crisis.all_numbers(ctx), *REMIND[state](ctx)])
    if name == "help":
        return Result(state, [say(ctx.t("globals.help_text")), *REMIND[state](ctx)])
    # delete: one confirmation first
    if state != S.CONFIRM_DELETE:
        ctx.data["delete_return"] = state.value
    return Result(S.CONFIRM_DELETE, [delete_question(ctx)])


def on_confirm_delete(ctx: Ctx, inp: Input) -> Result:
    if ctx.said(inp, "delete:yes", label_key="globals.delete_yes_label") or inp.text in ctx.copy.words(
        "globals.delete_yes_words"
    ):
        return Result(S.ENDED, [say(ctx.t("globals.delete_done"))], [DeleteEverything()])
    back = State(ctx.data.pop("delete_return", S.GREETED))
    return Result(back, [say(ctx.t("globals.delete_cancelled")), *REMIND[back](ctx)])


def on_resume(ctx: Ctx, inp: Input) -> Result:
    back = State(ctx.data.get("resume_state", S.ABOUT_WHOM))
    stashed = ctx.data.pop("resume_text", None)
    if ctx.said(inp, "resume:continue", label_key="resume.continue_label"):
        ctx.data.pop("resume_state", None)
        if stashed:  # what they wrote when they came back belongs to where they were
            return _dispatch(ctx, back, Input(kind="text", raw_text=stashed))
        return Result(back, ENTER[back](ctx))
    if inp.has_words:  # they simply carry on writing
        ctx.data.pop("resume_state", None)
        return _dispatch(ctx, back, inp)
    ctx.data["resume_text"] = stashed
    return Result(S.RESUME, [resume_question(ctx)])


def on_crisis(ctx: Ctx, inp: Input) -> Result:
    back = State(ctx.data.get("crisis_return", S.ABOUT_WHOM))
    if crisis.wants_connect(ctx, inp):
        ctx.data.pop("crisis_return", None)
        return crisis.connect_now()
    ctx.data.pop("crisis_return", None)
    if crisis.wants_continue(ctx, inp):
        return Result(back, [say(ctx.t("crisis.continue_reply")), *ENTER[back](ctx)])
    return _dispatch(ctx, back, inp)  # they carry on where they were


HANDLERS.update({S.CONFIRM_DELETE: on_confirm_delete, S.RESUME: on_resume, S.CRISIS: on_crisis})


def _dispatch(ctx: Ctx, state: State, inp: Input) -> Result:
    handler = HANDLERS.get(state)
    if handler is None:  # ENDED: the engine starts a new conversation before we get here
        return greeting.on_start(ctx, inp)
    return handler(ctx, inp)


def step(ctx: Ctx, state: State, inp: Input, *, idle: timedelta | None = None) -> Result:
    """One inbound message → the next state, the replies and the effects for the engine."""
    result = _step(ctx, state, inp, idle)
    if _wants_gentle_numbers(ctx, inp, result):
        # One extra kind message at the end of the usual reply: no crisis state, no handoff.
        gentle = crisis.gentle_numbers(ctx)
        if result.messages and result.messages[-1].quick_replies:
            # LINE shows quick replies only under the last message: the buttons move down.
            gentle.quick_replies, result.messages[-1].quick_replies = result.messages[-1].quick_replies, []
        result.messages.append(gentle)
    allowed = (state, *TRANSITIONS.get(state, ()), *ANYWHERE)
    if result.state not in allowed:
        log.error("dialogue transition %s → %s is not in the table", state, result.state)
    return result


def _wants_gentle_numbers(ctx: Ctx, inp: Input, result: Result) -> bool:
    # Hard flags already bring the full numbers; with staff on the chat the bot stays silent
    # (they read the message themselves); a command word (人と話したい) is not a confidence.
    return (
        inp.kind == "text"
        and ctx.risk_hint
        and not ctx.risk
        and ctx.case_status != "staff"
        and result.state != S.CRISIS
        and global_command(ctx, inp) is None
    )


def _step(ctx: Ctx, state: State, inp: Input, idle: timedelta | None) -> Result:
    # 1. Safety first: a risk flag on any text message, whatever the state or the case.
    if inp.kind == "text" and ctx.risk:
        if ctx.case_status is None and inp.raw_text:
            ctx.words.append(inp.raw_text)
        reprompt = (
            [] if state in (S.HANDED_OFF, S.CRISIS) or ctx.case_status == "staff" else REMIND[state](ctx)
        )
        return crisis.respond(ctx, state, ctx.risk, reprompt)

    command = global_command(ctx, inp)
    # 2. Staff are talking with the resident: the bot stays silent (numbers and deletion still work).
    if ctx.case_status == "staff":
        if command in ("emergency", "delete"):
            return run_global(ctx, state, command)
        if state == S.CONFIRM_DELETE:
            return on_confirm_delete(ctx, inp)
        return Result(state, [])

    # 3. (Re)following the account.
    if inp.kind == "follow":
        if state == S.START:
            return greeting.on_start(ctx, inp)
        if state in RESUMABLE:
            ctx.data["resume_state"] = state.value
            return Result(S.RESUME, [resume_question(ctx)])
        return Result(state, [])

    # 4. Global words, from any step (fewer once a case exists).
    if state == S.RESUME and command == "restart":
        # Starting over keeps what they wrote when they came back: it is the new beginning.
        return _restart(ctx, [ctx.data["resume_text"]] if ctx.data.get("resume_text") else None)
    if command and state != S.CONFIRM_DELETE and (ctx.case_status is None or command in GLOBALS_WITH_CASE):
        return run_global(ctx, state, command)

    # 5. Back after a long silence: continue or start over?
    if idle is not None and state in RESUMABLE and idle >= timedelta(hours=ctx.city.resume_after_hours):
        ctx.data["resume_state"] = state.value
        if inp.has_words:
            ctx.data["resume_text"] = inp.raw_text
        return Result(S.RESUME, [resume_question(ctx)])

    # 6. Stickers, images, locations: a kind nudge to write words; nothing changes.
    if inp.kind in ("media", "location") and state != S.START:
        if state == S.HANDED_OFF:
            return Result(state, [say(ctx.t("media.nudge"))])
        return Result(state, [say(ctx.t("media.nudge")), *REMIND[state](ctx)][:5])

    return _dispatch(ctx, state, inp)


def pause(ctx: Ctx, state: State) -> Result | None:
    """The resident stopped writing for a while (called from the engine's tick)."""
    if state == S.TELLING:
        return telling.on_pause(ctx)
    return None
