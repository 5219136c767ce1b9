"""The whole guided dialogue through the real webhook (/callback) and the fake Messaging API."""

from __future__ import annotations

from sqlalchemy import select

from handoff import service as handoff
from handoff.models import Case
from tests.support import events as ev


def _texts(messages):
    return "\n".join(m.get("text", "") for m in messages if m.get("type") == "text")


def _buttons(messages):
    return {
        item["action"]["label"]: item["action"].get("data") or item["action"].get("text")
        for m in messages
        for item in (m.get("quickReply") or {}).get("items", [])
    }


def test_whole_flow_over_the_webhook(line, app_client):
    user = ev.new_user_id()
    got = line.follow(user)
    assert "福祉まるごと相談窓口" in _texts(got) and "相談する" in _buttons(got)

    got = line.postback(user, _buttons(got)["相談する"])
    got = line.postback(user, _buttons(got)["家族のこと"])
    assert "ご家族のことで" in _texts(got)
    got = line.say(user, "息子が10年ひきこもっています。")
    assert "受け取りました" in _texts(got)
    got = line.postback(user, _buttons(got)["以上です"])
    assert "ひきこもりのこと" in _texts(got)
    got = line.postback(user, _buttons(got)["合っている"])
    assert "とてもよくあること" in _texts(got)
    for _ in range(8):  # skip every follow-up
        if "同意する" in _buttons(got):
            break
        got = line.postback(user, _buttons(got)["とばす"])
    flex = [m for m in got if m.get("type") == "flex"]
    assert flex and flex[0]["contents"]["type"] == "bubble"
    assert "息子が10年ひきこもっています。" in str(flex[0]["contents"])
    assert "家族学習会" in _texts(got)

    app = app_client.app
    with app.state.session_factory() as s:
        assert s.scalars(select(Case)).all() == []  # nothing before consent

    got = line.postback(user, _buttons(got)["同意する"])
    assert "このままLINEで" in _buttons(got)
    got = line.postback(user, _buttons(got)["このままLINEで"])
    assert "相談員に伝えました" in _texts(got)

    with app.state.session_factory() as s:
        (case,) = s.scalars(select(Case)).all()
        sheet = handoff.latest_sheet(s, case_id=case.id)
    assert case.status == "waiting" and case.writer_type == "family"
    assert sheet.consent.given and "hikikomori" in sheet.subcategories
    assert sheet.resident_words == ["息子が10年ひきこもっています。"]

    # A crisis message later still gets the numbers in the very next reply.
    got = line.say(user, "もう死にたいです")
    assert "0120-279-338" in got[0]["text"]


def test_declined_over_the_webhook_gets_the_directory_carousel(line, app_client):
    user = ev.new_user_id()
    line.say(user, "家賃が払えなくて困っています")
    got = line.say(user, "人と話したい")
    assert "同意しない" in _buttons(got)
    got = line.postback(user, _buttons(got)["同意しない"])
    carousels = [m for m in got if m.get("type") == "flex" and m["contents"]["type"] == "carousel"]
    assert carousels and "電話" in str(carousels[0]["contents"])
    with app_client.app.state.session_factory() as s:
        assert s.scalars(select(Case)).all() == []
