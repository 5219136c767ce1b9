"""The rich menu: its JSON and picture, installing it on the fake LINE API over real HTTP, and every
tile's postback answered by the real dialogue through the webhook."""

from __future__ import annotations

import io
import json

import httpx
import pytest
from PIL import Image, ImageChops
from typer.testing import CliRunner

from bot.city import load_city
from bot.dialogs.copy import Copy
from bot.line import richmenu
from bot.settings import SAMPLE_CITY_FILE
from tests.support import events as ev
from tests.support.fixtures import make_settings

EXPECTED_DATA = {"start", "g:human", "g:emergency", "g:restart", "g:help", "g:delete"}


@pytest.fixture(scope="module")
def copy() -> Copy:
    return Copy.load(load_city(SAMPLE_CITY_FILE))


@pytest.fixture(scope="module")
def png(copy) -> bytes:
    return richmenu.render_png(copy)


def _settings(fake_line, tmp_path, db_url="sqlite://"):
    return make_settings(db_url, fake_line, tmp_path / "var", LINE_API_DATA_BASE_URL=fake_line.data_base_url)


def _install(fake_line, tmp_path, **kw):
    return richmenu.install_from_settings(_settings(fake_line, tmp_path), echo=lambda _m: None, **kw)


# ---------------------------------------------------------------- the menu itself


def test_menu_has_six_postback_tiles_that_cover_the_whole_picture(copy):
    menu = richmenu.menu_json(copy)
    assert menu["size"] == {"width": 2500, "height": 843}
    assert menu["chatBarText"] == "メニュー"
    areas = menu["areas"]
    assert len(areas) == 6
    assert {a["action"]["data"] for a in areas} == EXPECTED_DATA
    labels = [a["action"]["label"] for a in areas]
    assert labels == ["相談する", "人と話したい", "緊急の連絡先", "最初から", "ヘルプ", "削除"]
    for a in areas:
        assert a["action"]["type"] == "postback"
        assert a["action"]["displayText"] == a["action"]["label"]  # the chat shows what was tapped
    # Every pixel belongs to exactly one tile: no dead strips, no overlaps.
    covered = sum(a["bounds"]["width"] * a["bounds"]["height"] for a in areas)
    assert covered == 2500 * 843
    for a in areas:
        b = a["bounds"]
        assert b["x"] + b["width"] <= 2500 and b["y"] + b["height"] <= 843
    # Top row: consult, human, emergency; bottom row: restart, help, delete.
    assert [a["bounds"]["y"] for a in areas] == [0, 0, 0, 422, 422, 422]


def test_picture_is_a_png_of_the_menu_size_under_one_megabyte(png):
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(png) < 1_000_000
    with Image.open(io.BytesIO(png)) as image:
        assert image.size == (2500, 843)


def test_every_tile_has_its_words_drawn_in_dark_ink(copy, png):
    with Image.open(io.BytesIO(png)) as image:
        grey = image.convert("L")
        for tile in richmenu.tiles(copy):
            b = tile.bounds
            region = grey.crop((b["x"], b["y"], b["x"] + b["width"], b["y"] + b["height"]))
            dark = sum(region.histogram()[:90])
            assert dark > 2000, f"{tile.label}: no text drawn"


def test_the_font_has_real_glyphs_for_every_japanese_label(copy):
    """Not tofu: each character draws differently from the font's 'missing glyph' box."""
    from PIL import ImageDraw, ImageFont

    font = ImageFont.truetype(richmenu.find_font(), 80)

    def draw(ch: str) -> Image.Image:
        img = Image.new("L", (100, 100), 0)
        ImageDraw.Draw(img).text((10, 0), ch, font=font, fill=255)
        return img

    missing = draw("\U0010fffd")
    chars = {c for t in richmenu.tiles(copy) for c in t.label + t.hint}
    for ch in chars:
        assert ImageChops.difference(draw(ch), missing).getbbox() is not None, ch


def test_a_missing_japanese_font_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(richmenu, "FONT_QUERY", "No Such Font That Exists")
    with pytest.raises(richmenu.RichMenuError, match="fonts-noto-cjk"):
        richmenu.find_font()


# ---------------------------------------------------------------- installing (real HTTP, fake LINE)


def test_install_creates_uploads_to_the_data_host_and_sets_default(fake_line, tmp_path, png):
    done = _install(fake_line, tmp_path)
    assert done is not None
    menus = fake_line.richmenus
    assert list(menus) == [done.rich_menu_id]
    assert menus[done.rich_menu_id]["content_type"] == "image/png"
    assert menus[done.rich_menu_id]["image"][:8] == b"\x89PNG\r\n\x1a\n"
    assert fake_line.default_richmenu == done.rich_menu_id
    calls = [(r.method, r.path) for r in fake_line.requests]
    assert calls == [
        ("GET", "/v2/bot/richmenu/list"),
        ("POST", "/v2/bot/richmenu"),
        ("POST", f"/v2/bot/richmenu/{done.rich_menu_id}/content"),
        ("POST", f"/v2/bot/user/all/richmenu/{done.rich_menu_id}"),
    ]
    assert all(r.headers["authorization"] == f"Bearer {ev.TEST_ACCESS_TOKEN}" for r in fake_line.requests)


def test_running_it_again_replaces_our_menu_and_keeps_others(fake_line, tmp_path):
    # A menu someone made by hand in LINE Official Account Manager is not ours to delete.
    other = httpx.post(
        f"{fake_line.base_url}/v2/bot/richmenu",
        headers={"Authorization": f"Bearer {ev.TEST_ACCESS_TOKEN}"},
        json={
            "size": {"width": 2500, "height": 843},
            "selected": False,
            "name": "campaign",
            "chatBarText": "お知らせ",
            "areas": [
                {
                    "bounds": {"x": 0, "y": 0, "width": 2500, "height": 843},
                    "action": {"type": "postback", "data": "x"},
                }
            ],
        },
    ).json()["richMenuId"]
    first = _install(fake_line, tmp_path)
    second = _install(fake_line, tmp_path)
    assert second.deleted == [first.rich_menu_id]
    assert set(fake_line.richmenus) == {other, second.rich_menu_id}
    assert fake_line.default_richmenu == second.rich_menu_id


def test_a_failed_upload_leaves_no_half_made_menu(fake_line, tmp_path, copy):
    wrong_size = io.BytesIO()
    Image.new("RGB", (1200, 405), "white").save(wrong_size, format="PNG")
    with pytest.raises(richmenu.RichMenuError, match="upload rich menu image: HTTP 400"):
        richmenu.install(
            base_url=fake_line.base_url,
            data_base_url=fake_line.data_base_url,
            access_token=ev.TEST_ACCESS_TOKEN,
            menu=richmenu.menu_json(copy),
            image_png=wrong_size.getvalue(),
        )
    assert fake_line.richmenus == {}
    assert fake_line.default_richmenu is None


def test_a_wrong_token_is_reported_not_ignored(fake_line, copy, png):
    with pytest.raises(richmenu.RichMenuError, match="HTTP 401"):
        richmenu.install(
            base_url=fake_line.base_url,
            data_base_url=fake_line.data_base_url,
            access_token="not-the-token",
            menu=richmenu.menu_json(copy),
            image_png=png,
        )


@pytest.mark.parametrize(
    "change, problem",
    [
        (lambda m: m.update(chatBarText="メニュー" * 4), "chatBarText"),
        (lambda m: m["areas"][2]["bounds"].update(width=900), "outside"),
        (lambda m: m.update(areas=m["areas"] * 4), "between 1 and 20"),
        (lambda m: m.update(size={"width": 2500, "height": 2000}), "size"),
    ],
)
def test_the_fake_refuses_menus_line_would_refuse(fake_line, copy, change, problem):
    """The fake is only worth testing against if it is as strict as LINE."""
    menu = json.loads(json.dumps(richmenu.menu_json(copy)))
    change(menu)
    resp = httpx.post(
        f"{fake_line.base_url}/v2/bot/richmenu",
        headers={"Authorization": f"Bearer {ev.TEST_ACCESS_TOKEN}"},
        json=menu,
    )
    assert resp.status_code == 400
    assert problem in resp.text


def test_the_fake_refuses_images_line_would_refuse(fake_line, copy, png):
    auth = {"Authorization": f"Bearer {ev.TEST_ACCESS_TOKEN}"}
    menu_id = httpx.post(
        f"{fake_line.base_url}/v2/bot/richmenu", headers=auth, json=richmenu.menu_json(copy)
    ).json()["richMenuId"]
    content = f"/v2/bot/richmenu/{menu_id}/content"
    # Not before an image exists.
    assert (
        httpx.post(f"{fake_line.base_url}/v2/bot/user/all/richmenu/{menu_id}", headers=auth).status_code
        == 400
    )
    # Only on the data host, only PNG/JPEG, only ≤ 1 MB.
    png_type = {**auth, "Content-Type": "image/png"}
    assert httpx.post(fake_line.base_url + content, headers=png_type, content=png).status_code == 404
    gif_type = {**auth, "Content-Type": "image/gif"}
    assert httpx.post(fake_line.data_base_url + content, headers=gif_type, content=png).status_code == 415
    huge = png + b"\0" * 1_100_000
    assert httpx.post(fake_line.data_base_url + content, headers=png_type, content=huge).status_code == 413
    assert httpx.post(fake_line.data_base_url + content, headers=png_type, content=png).status_code == 200
    # Once only.
    assert httpx.post(fake_line.data_base_url + content, headers=png_type, content=png).status_code == 400


# ---------------------------------------------------------------- the command


def _env(monkeypatch, tmp_path, fake_line=None):
    for name in (
        "LINE_CHANNEL_SECRET",
        "LINE_CHANNEL_ACCESS_TOKEN",
        "LINE_API_BASE_URL",
        "LINE_API_DATA_BASE_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CONSULT_VAR_DIR", str(tmp_path / "var"))
    if fake_line is not None:
        monkeypatch.setenv("LINE_CHANNEL_SECRET", ev.TEST_CHANNEL_SECRET)
        monkeypatch.setenv("LINE_CHANNEL_ACCESS_TOKEN", ev.TEST_ACCESS_TOKEN)
        monkeypatch.setenv("LINE_API_BASE_URL", fake_line.base_url)
        monkeypatch.setenv("LINE_API_DATA_BASE_URL", fake_line.data_base_url)


def test_cli_dry_run_writes_the_picture_prints_the_json_and_calls_nothing(monkeypatch, tmp_path, fake_line):
    from bot.cli import app

    _env(monkeypatch, tmp_path, fake_line)
    out = tmp_path / "menu.png"
    result = CliRunner().invoke(app, ["richmenu", "install", "--dry-run", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:4] == b"\x89PNG"
    assert '"chatBarText": "メニュー"' in result.output
    assert fake_line.requests == []


def test_cli_in_simulator_mode_installs_nothing(monkeypatch, tmp_path):
    from bot.cli import app

    _env(monkeypatch, tmp_path)
    result = CliRunner().invoke(app, ["richmenu", "install"])
    assert result.exit_code == 0, result.output
    assert "simulator mode" in result.output
    assert '"g:emergency"' in result.output


def test_cli_installs_on_the_channel(monkeypatch, tmp_path, fake_line):
    from bot.cli import app

    _env(monkeypatch, tmp_path, fake_line)
    result = CliRunner().invoke(app, ["richmenu", "install"])
    assert result.exit_code == 0, result.output
    assert fake_line.default_richmenu in result.output
    assert len(fake_line.richmenus) == 1


def test_cli_reports_lines_refusal(monkeypatch, tmp_path, fake_line):
    from bot.cli import app

    _env(monkeypatch, tmp_path, fake_line)
    monkeypatch.setenv("LINE_CHANNEL_ACCESS_TOKEN", "a-revoked-token")
    result = CliRunner().invoke(app, ["richmenu", "install"])
    assert result.exit_code == 1
    assert "HTTP 401" in result.output


# ---------------------------------------------------------------- every tile, answered by the dialogue


def _texts(messages) -> str:
    return "\n".join(m.get("text", "") or m.get("altText", "") for m in messages)


def test_every_tile_is_understood_through_the_webhook(line, copy):
    """Tap each tile (its postback, as LINE sends it) and read what the resident gets back."""
    data = {a["action"]["label"]: a["action"]["data"] for a in richmenu.menu_json(copy)["areas"]}
    user = ev.new_user_id()
    greeting = line.follow(user)
    # 相談する on the menu is the very same postback as the greeting's own 相談する button.
    buttons = {
        item["action"]["label"]: item["action"].get("data")
        for m in greeting
        for item in (m.get("quickReply") or {}).get("items", [])
    }
    assert buttons["相談する"] == data["相談する"]

    got = _texts(line.postback(user, data["相談する"]))
    assert copy.text("about_whom.question") in got

    got = _texts(line.postback(user, data["緊急の連絡先"]))
    assert "0120-279-338" in got  # よりそいホットライン, among the city's numbers
    assert "110" in got and "119" in got

    got = _texts(line.postback(user, data["ヘルプ"]))
    assert "使い方" in got

    got = _texts(line.postback(user, data["最初から"]))
    assert copy.text("globals.restarted") in got

    got = _texts(line.postback(user, data["人と話したい"]))
    assert copy.text("globals.human_reply") in got

    got = _texts(line.postback(user, data["削除"]))
    assert copy.text("globals.delete_confirm") in got


def test_the_consult_tile_starts_a_first_timer_and_continues_a_resident_mid_way(line, copy):
    # Someone who never followed (menu shown from a shared link): greeting, then the first question.
    newcomer = ev.new_user_id()
    got = _texts(line.postback(newcomer, "start"))
    assert "ご連絡ありがとうございます" in got and copy.text("about_whom.question") in got

    # Someone in the middle of telling: asked to go on, nothing they wrote is lost or restarted.
    user = ev.new_user_id()
    line.follow(user)
    line.postback(user, "start")
    line.postback(user, "about:family")
    line.say(user, "息子が10年ひきこもっています。")
    got = _texts(line.postback(user, "start"))
    assert copy.text("telling.prompt.family") in got
    assert copy.text("globals.restarted") not in got
    assert copy.text("about_whom.question") not in got
