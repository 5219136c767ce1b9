"""The rich menu under the chat on a real LINE channel: its JSON, its image, and installing it.

Each tile sends a postback the dialogue already understands (the global words `g:…`, and the
greeting's own 相談する data), with a `displayText` so the chat shows what was tapped. The words
come from copy.yaml (`rich_menu:`), so a city changes them in the same place as every other word.

Installing follows LINE's documented order: create the menu (api.line.me) → upload its image
(api-data.line.me) → make it the default for every user → delete our older menus, so running
it again replaces the menu instead of piling up copies.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from dataclasses import dataclass
from typing import Any

import httpx

from bot.dialogs.copy import Copy

WIDTH, HEIGHT = 2500, 843  # LINE's "compact" size: 2 rows of 3 tiles
COLUMNS, ROWS = 3, 2
MAX_IMAGE_BYTES = 1_000_000
CHAT_BAR_MAX = 14
# Our menus are recognised by this name prefix, so a re-run deletes only menus we created.
MENU_NAME_PREFIX = "consult-bot"
MENU_NAME = f"{MENU_NAME_PREFIX} main menu"
FONT_QUERY = "Noto Sans CJK JP:bold"

# (copy key, postback data) in reading order: top row left → right, then the bottom row.
# "start" is the data of the greeting's 相談する button (bot/dialogs/steps/greeting.py).
TILES: tuple[tuple[str, str], ...] = (
    ("consult", "start"),
    ("human", "g:human"),
    ("emergency", "g:emergency"),
    ("restart", "g:restart"),
    ("help", "g:help"),
    ("delete", "g:delete"),
)

# Calm colours: soft tiles, dark text; the emergency tile is a warm tint (visible, not alarming).
BACKGROUND = (226, 232, 236)
TILE_COLOURS = {
    "consult": (214, 236, 224),
    "human": (220, 230, 242),
    "emergency": (250, 226, 214),
    "restart": (238, 238, 232),
    "help": (238, 238, 232),
    "delete": (238, 238, 232),
}
LABEL_COLOUR = (38, 50, 56)
HINT_COLOUR = (84, 98, 106)
GAP = 10  # px between tiles, drawn as background


class RichMenuError(RuntimeError):
    """The menu could not be built or installed; the message says why."""


@dataclass(frozen=True)
class Tile:
    key: str
    data: str
    label: str
    hint: str
    bounds: dict[str, int]


def tiles(copy: Copy) -> list[Tile]:
    """The six tiles with their words and tap areas (areas cover the whole image, no gaps)."""
    col_edges = [round(WIDTH * i / COLUMNS) for i in range(COLUMNS + 1)]
    row_edges = [round(HEIGHT * i / ROWS) for i in range(ROWS + 1)]
    out = []
    for i, (key, data) in enumerate(TILES):
        row, col = divmod(i, COLUMNS)
        x, y = col_edges[col], row_edges[row]
        bounds = {"x": x, "y": y, "width": col_edges[col + 1] - x, "height": row_edges[row + 1] - y}
        out.append(
            Tile(
                key=key,
                data=data,
                label=copy.label(f"rich_menu.{key}.label"),
                hint=copy.text(f"rich_menu.{key}.hint"),
                bounds=bounds,
            )
        )
    return out


def menu_json(copy: Copy) -> dict[str, Any]:
    """The rich menu object for POST /v2/bot/richmenu."""
    chat_bar = copy.text("rich_menu.chat_bar_text")
    if not 1 <= len(chat_bar) <= CHAT_BAR_MAX:
        raise RichMenuError(f"rich_menu.chat_bar_text must be 1–{CHAT_BAR_MAX} characters: {chat_bar!r}")
    return {
        "size": {"width": WIDTH, "height": HEIGHT},
        "selected": False,  # shown closed: the chat stays the main thing; one tap on メニュー opens it
        "name": MENU_NAME,
        "chatBarText": chat_bar,
        "areas": [
            {
                "bounds": t.bounds,
                "action": {"type": "postback", "label": t.label, "data": t.data, "displayText": t.label},
            }
            for t in tiles(copy)
        ],
    }


# ---------------------------------------------------------------- the image


def find_font() -> str:
    """Noto Sans CJK JP Bold from Debian's fonts-noto-cjk (found through fontconfig)."""
    if shutil.which("fc-match") is None:
        raise RichMenuError(
            "fc-match not found: install fontconfig and fonts-noto-cjk (apt-get install fonts-noto-cjk)"
        )
    result = subprocess.run(
        ["fc-match", FONT_QUERY, "-f", "%{file}\n%{family}"], capture_output=True, text=True, check=False
    )
    path, _, family = result.stdout.partition("\n")
    # fc-match always answers with *some* font; only accept the CJK one, or Japanese would be boxes.
    if result.returncode != 0 or "CJK" not in family or not path:
        raise RichMenuError(
            "the Japanese font Noto Sans CJK JP is missing: apt-get install fonts-noto-cjk "
            f"(fc-match answered {result.stdout.strip()!r})"
        )
    return path


def _font(path: str, size: int):
    from PIL import ImageFont

    # The .ttc holds several CJK fonts; index 0 is JP in Debian's NotoSansCJK-*.ttc, but pick it by name.
    for index in range(10):
        try:
            font = ImageFont.truetype(path, size, index=index)
        except OSError:
            break
        if font.getname()[0].endswith("JP"):
            return font
    return ImageFont.truetype(path, size)


def _fit(draw, text: str, font_path: str, size: int, max_width: int):
    """The font at `size`, made smaller until `text` fits the tile (a city may write longer words)."""
    while size > 40:
        font = _font(font_path, size)
        if draw.textlength(text, font=font) <= max_width:
            return font
        size -= 8
    return _font(font_path, size)


def render_png(copy: Copy, *, font_path: str | None = None) -> bytes:
    """The menu picture: one tile per area, big label, small hint underneath. PNG under 1 MB."""
    from PIL import Image, ImageDraw

    font_path = font_path or find_font()
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    for t in tiles(copy):
        b = t.bounds
        box = (
            b["x"] + GAP // 2,
            b["y"] + GAP // 2,
            b["x"] + b["width"] - GAP // 2,
            b["y"] + b["height"] - GAP // 2,
        )
        draw.rounded_rectangle(box, radius=28, fill=TILE_COLOURS.get(t.key, (238, 238, 232)))
        cx = (box[0] + box[2]) / 2
        cy = (box[1] + box[3]) / 2
        label_font = _fit(draw, t.label, font_path, 120, b["width"] - 80)
        hint_font = _fit(draw, t.hint, font_path, 64, b["width"] - 80)
        draw.text((cx, cy + 12), t.label, font=label_font, fill=LABEL_COLOUR, anchor="ms")
        draw.text((cx, cy + 108), t.hint, font=hint_font, fill=HINT_COLOUR, anchor="ms")
    buffer = io.BytesIO()
    # A 64-colour palette keeps the flat picture small (~50 KB, LINE accepts ≤ 1 MB) with smooth text edges.
    image.quantize(colors=64).save(buffer, format="PNG", optimize=True)
    data = buffer.getvalue()
    if len(data) > MAX_IMAGE_BYTES:
        raise RichMenuError(f"rich menu image is {len(data)} bytes; LINE accepts at most {MAX_IMAGE_BYTES}")
    return data


# ---------------------------------------------------------------- installing


@dataclass
class Installed:
    rich_menu_id: str
    deleted: list[str]


def _check(resp: httpx.Response, what: str) -> httpx.Response:
    if resp.status_code != 200:
        raise RichMenuError(f"{what}: HTTP {resp.status_code}: {resp.text[:300]}")
    return resp


def install(
    *,
    base_url: str,
    data_base_url: str,
    access_token: str,
    menu: dict[str, Any],
    image_png: bytes,
    timeout: float = 30.0,
) -> Installed:
    """Create, upload, set as default, then delete our older menus. Returns the new id."""
    headers = {"Authorization": f"Bearer {access_token}"}
    with (
        httpx.Client(base_url=base_url.rstrip("/"), headers=headers, timeout=timeout) as api,
        httpx.Client(base_url=data_base_url.rstrip("/"), headers=headers, timeout=timeout) as data_api,
    ):
        before = _check(api.get("/v2/bot/richmenu/list"), "list rich menus").json().get("richmenus", [])
        created = _check(api.post("/v2/bot/richmenu", json=menu), "create rich menu").json()
        menu_id = created["richMenuId"]
        try:
            _check(
                data_api.post(
                    f"/v2/bot/richmenu/{menu_id}/content",
                    content=image_png,
                    headers={"Content-Type": "image/png"},
                ),
                "upload rich menu image",
            )
            _check(api.post(f"/v2/bot/user/all/richmenu/{menu_id}"), "set default rich menu")
        except (RichMenuError, httpx.HTTPError):
            # A menu without an image can't be shown anyway: don't leave it behind.
            api.delete(f"/v2/bot/richmenu/{menu_id}")
            raise
        # Only after the new one is the default, so residents never see the bar without a menu.
        deleted = []
        for old in before:
            if str(old.get("name", "")).startswith(MENU_NAME_PREFIX) and old.get("richMenuId") != menu_id:
                _check(api.delete(f"/v2/bot/richmenu/{old['richMenuId']}"), "delete old rich menu")
                deleted.append(old["richMenuId"])
    return Installed(rich_menu_id=menu_id, deleted=deleted)


def describe(menu: dict[str, Any]) -> str:
    return json.dumps(menu, ensure_ascii=False, indent=2)


def install_from_settings(settings, *, dry_run: bool = False, out=None, echo=print) -> Installed | None:
    """`consult-bot richmenu install`: simulator mode or --dry-run only write the image and print the JSON."""
    from pathlib import Path

    from bot.city import load_city

    copy = Copy.load(load_city(settings.city_config))
    menu = menu_json(copy)
    image = render_png(copy)
    if out is not None:
        Path(out).write_bytes(image)
        echo(f"image written to {out} ({len(image)} bytes)")
    if dry_run or settings.simulator_mode:
        if settings.simulator_mode and not dry_run:
            echo("simulator mode (no LINE_CHANNEL_SECRET): nothing installed; the simulator has its own menu")
        echo(describe(menu))
        return None
    done = install(
        base_url=settings.line_api_base_url,
        data_base_url=settings.line_api_data_base_url,
        access_token=settings.channel_access_token,
        menu=menu,
        image_png=image,
    )
    echo(f"rich menu {done.rich_menu_id} installed as the default")
    for old in done.deleted:
        echo(f"deleted older rich menu {old}")
    return done
