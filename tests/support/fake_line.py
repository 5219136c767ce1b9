"""A fake LINE Messaging API over real HTTP, strict the way LINE is.

It checks the bearer token, 1–5 messages per request, ≤ 5,000 UTF-16 units per text, the request
shape (parsed with line-bot-sdk's own models), reply tokens (issued here, single use, expiring),
and X-Line-Retry-Key (refused on reply; on push a reused accepted key answers 409 with
x-line-accepted-request-id). It can be told to fail the next N requests (status, or a timeout:
accept, then answer too late), and it records every request. Rich menus too: create/list/get/
delete and set-default on the API host, the image upload only on the data host (`data_base_url`),
each checked like LINE (size, areas in bounds, ≤ 20 areas, chatBarText ≤ 14, PNG/JPEG ≤ 1 MB).

    fake = FakeLine(access_token=TEST_ACCESS_TOKEN).start()
    token = fake.issue_reply_token()
    ...
    fake.delivered(user_id)   # messages LINE accepted for the user, in order
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.support.events import TEST_ACCESS_TOKEN

REPLY_TOKEN_TTL = 60.0


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    status: int
    at: float


@dataclass
class Failure:
    status: int | None  # None → timeout (the request is accepted, the answer comes too late)
    endpoint: str | None  # "reply" | "push" | "loading" | "leave" | None for any
    delay: float = 0.0


@dataclass
class Accepted:
    to: str  # user (or group/room) id
    via: str  # reply | push
    messages: list[dict[str, Any]]
    request_id: str
    retry_key: str | None = None


@dataclass
class _State:
    lock: threading.Lock = field(default_factory=threading.Lock)
    requests: list[Recorded] = field(default_factory=list)
    accepted: list[Accepted] = field(default_factory=list)
    reply_tokens: dict[str, tuple[str | None, float]] = field(default_factory=dict)
    used_tokens: set[str] = field(default_factory=set)
    retry_keys: dict[str, str] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    left: list[tuple[str, str]] = field(default_factory=list)
    loading: list[dict[str, Any]] = field(default_factory=list)
    # Rich menus: id → {"menu": the object, "image": bytes | None, "content_type": str | None}.
    richmenus: dict[str, dict[str, Any]] = field(default_factory=dict)
    default_richmenu: str | None = None


def _endpoint(path: str) -> str:
    if path == "/v2/bot/message/reply":
        return "reply"
    if path == "/v2/bot/message/push":
        return "push"
    if path == "/v2/bot/chat/loading/start":
        return "loading"
    if path.endswith("/leave"):
        return "leave"
    return "other"


def _check_messages(messages: Any) -> str | None:
    if not isinstance(messages, list) or not 1 <= len(messages) <= 5:
        return "messages: size must be between 1 and 5"
    for m in messages:
        if not isinstance(m, dict) or "type" not in m:
            return "messages[]: type required"
        if m["type"] == "text":
            if not m.get("text"):
                return "text: must not be empty"
            if utf16_len(m["text"]) > 5000:
                return "text: length must be <= 5000"
        if m["type"] == "flex" and (not m.get("altText") or not isinstance(m.get("contents"), dict)):
            return "flex: altText and contents required"
        items = (m.get("quickReply") or {}).get("items")
        if items is not None and not 1 <= len(items) <= 13:
            return "quickReply.items: size must be between 1 and 13"
    return None


def _sdk_check(kind: str, body: dict[str, Any]) -> str | None:
    """Parse with line-bot-sdk's models: a body they cannot read is not a LINE request."""
    from linebot.v3.messaging import PushMessageRequest, ReplyMessageRequest

    model = ReplyMessageRequest if kind == "reply" else PushMessageRequest
    try:
        parsed = model.from_dict(body)
    except Exception as exc:
        return f"invalid request body: {exc}"
    if parsed is None:
        return "invalid request body"
    return None


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        pass  # a client that gave up (timeout test) is expected; no traceback noise


class FakeLine:
    def __init__(
        self,
        access_token: str = TEST_ACCESS_TOKEN,
        reply_token_ttl: float = REPLY_TOKEN_TTL,
        *,
        accept_unknown_reply_tokens: bool = False,
        port: int = 0,
    ) -> None:
        self.access_token = access_token
        self.reply_token_ttl = reply_token_ttl
        # For a fake in another process (benchmarks): any token not seen before is fresh, once.
        self.accept_unknown_reply_tokens = accept_unknown_reply_tokens
        self.port = port
        self.state = _State()
        self._server: ThreadingHTTPServer | None = None
        self._data_server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---------------------------------------------------------------- control

    def start(self) -> FakeLine:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in separate writes; without TCP_NODELAY, Nagle + delayed ACK
            # would add ~40 ms to every answer and distort latency measurements.
            disable_nagle_algorithm = True

            def log_message(self, *args) -> None:  # quiet
                pass

            def _answer(self, status: int, headers: dict[str, str], body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def _richmenu(self, method: str) -> bool:
                if not self.path.startswith(("/v2/bot/richmenu", "/v2/bot/user/all/richmenu")):
                    return False
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                data_host = getattr(self.server, "is_data_host", False)
                answer = _handle_richmenu(
                    fake, method, self.path, dict(self.headers.items()), raw, data_host=data_host
                )
                self._answer(*answer)
                return True

            def do_DELETE(self) -> None:
                if not self._richmenu("DELETE"):
                    self._answer(404, {}, {"message": "Not found"})

            def do_GET(self) -> None:
                if self._richmenu("GET"):
                    return
                # Control endpoint for a fake running in another process: what it received.
                records = [
                    {
                        "path": r.path,
                        "status": r.status,
                        "at": r.at,
                        "replyToken": (r.body or {}).get("replyToken"),
                    }
                    for r in fake.requests
                ]
                self._answer(200, {}, records)

            def do_POST(self) -> None:
                if self._richmenu("POST"):
                    return
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                status, headers, body = fake._handle(self.path, dict(self.headers.items()), raw)
                if status is None:
                    return  # simulated timeout: connection dropped after the delay
                self._answer(status, headers, body)

        self._server = _QuietServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        # LINE's second host (api-data.line.me: rich menu images), same state, its own port.
        self._data_server = _QuietServer(("127.0.0.1", 0), Handler)
        self._data_server.daemon_threads = True
        self._data_server.is_data_host = True  # type: ignore[attr-defined]
        threading.Thread(target=self._data_server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        for server in (self._server, self._data_server):
            if server is not None:
                server.shutdown()
                server.server_close()

    @property
    def base_url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def data_base_url(self) -> str:
        assert self._data_server is not None
        host, port = self._data_server.server_address[:2]
        return f"http://{host}:{port}"

    def issue_reply_token(self, *, age_seconds: float = 0.0, user_id: str | None = None) -> str:
        """A reply token LINE would put on an event; `age_seconds` makes it that old already."""
        token = uuid.uuid4().hex
        with self.state.lock:
            self.state.reply_tokens[token] = (user_id, time.time() - age_seconds)
        return token

    def fail_next(
        self, n: int = 1, *, status: int | None = 500, endpoint: str | None = None, delay: float = 0.0
    ) -> None:
        """The next n matching requests fail with `status` (None: accepted, then answered after `delay`
        seconds — longer than the client waits — i.e. a timeout whose request did reach LINE)."""
        with self.state.lock:
            self.state.failures.extend(Failure(status, endpoint, delay) for _ in range(n))

    # ---------------------------------------------------------------- inspection

    @property
    def requests(self) -> list[Recorded]:
        with self.state.lock:
            return list(self.state.requests)

    def requests_to(self, endpoint: str) -> list[Recorded]:
        return [r for r in self.requests if _endpoint(r.path) == endpoint]

    def accepted(self) -> list[Accepted]:
        with self.state.lock:
            return list(self.state.accepted)

    def delivered(self, to: str | None = None) -> list[dict[str, Any]]:
        """Every message LINE accepted (for `to`), in order of acceptance."""
        return [m for a in self.accepted() if to is None or a.to == to for m in a.messages]

    def deliveries(self, to: str | None = None) -> list[Accepted]:
        return [a for a in self.accepted() if to is None or a.to == to]

    @property
    def left_chats(self) -> list[tuple[str, str]]:
        with self.state.lock:
            return list(self.state.left)

    @property
    def loading_requests(self) -> list[dict[str, Any]]:
        with self.state.lock:
            return list(self.state.loading)

    @property
    def richmenus(self) -> dict[str, dict[str, Any]]:
        with self.state.lock:
            return {k: dict(v) for k, v in self.state.richmenus.items()}

    @property
    def default_richmenu(self) -> str | None:
        with self.state.lock:
            return self.state.default_richmenu

    def wait_for(self, predicate, timeout: float = 10.0, interval: float = 0.02) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(interval)
        return bool(predicate())

    # ---------------------------------------------------------------- the API

    def _handle(self, path: str, headers: dict[str, str], raw: bytes):
        h = {k.lower(): v for k, v in headers.items()}
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = {"_unparsable": raw.decode(errors="replace")}
        endpoint = _endpoint(path)
        request_id = str(uuid.uuid4())
        rid = {"x-line-request-id": request_id}
        status, out_headers, out = self._decide(endpoint, path, h, body, request_id)
        with self.state.lock:
            self.state.requests.append(Recorded("POST", path, h, body, status or 0, time.time()))
        if isinstance(out, Failure):
            time.sleep(out.delay)
            return None, {}, {}
        return status, {**rid, **out_headers}, out

    def _take_failure(self, endpoint: str) -> Failure | None:
        with self.state.lock:
            for i, f in enumerate(self.state.failures):
                if f.endpoint is None or f.endpoint == endpoint:
                    return self.state.failures.pop(i)
        return None

    def _decide(self, endpoint: str, path: str, h: dict[str, str], body: Any, request_id: str):
        if h.get("authorization") != f"Bearer {self.access_token}":
            return 401, {}, {"message": "Authentication failed due to the following reason: invalid token."}
        failure = self._take_failure(endpoint)
        if failure is not None and failure.status is not None:
            return failure.status, {}, {"message": f"simulated {failure.status}"}
        timeout = failure  # None, or a timeout: do the work, then answer too late

        if endpoint == "loading":
            seconds = body.get("loadingSeconds", 20)
            if not isinstance(seconds, int) or seconds % 5 or not 5 <= seconds <= 60:
                return 400, {}, {"message": "loadingSeconds: a multiple of 5 between 5 and 60"}
            if not str(body.get("chatId", "")).startswith("U"):
                return 400, {}, {"message": "chatId: one-to-one chats only"}
            with self.state.lock:
                self.state.loading.append(body)
            return 202, {}, timeout or {}
        if endpoint == "leave":
            parts = path.strip("/").split("/")  # v2/bot/{group|room}/{id}/leave
            with self.state.lock:
                self.state.left.append((parts[2], parts[3]))
            return 200, {}, timeout or {}
        if endpoint not in ("reply", "push"):
            return 404, {}, {"message": "Not found"}

        problem = _check_messages(body.get("messages")) or _sdk_check(endpoint, body)
        if problem:
            return 400, {}, {"message": "The request body has 1 error(s)", "details": [{"message": problem}]}
        retry_key = h.get("x-line-retry-key")
        if endpoint == "reply":
            if retry_key is not None:
                return 400, {}, {"message": "The retry key is not supported for this API."}
            token = body.get("replyToken")
            with self.state.lock:
                entry = self.state.reply_tokens.get(token)
                if entry is None and self.accept_unknown_reply_tokens and token not in self.state.used_tokens:
                    entry = (None, time.time())
                fresh = entry is not None and time.time() - entry[1] <= self.reply_token_ttl
                if not fresh or token in self.state.used_tokens:
                    return 400, {}, {"message": "Invalid reply token"}
                self.state.used_tokens.add(token)
                to = entry[0] or "reply:" + token
                self.state.accepted.append(Accepted(to, "reply", body["messages"], request_id))
            return (
                200,
                {},
                timeout or {"sentMessages": [{"id": str(i)} for i in range(len(body["messages"]))]},
            )

        to = body.get("to")
        if not isinstance(to, str) or not to.startswith(("U", "C", "R")):
            return 400, {}, {"message": "The property, 'to', in the request body is invalid"}
        if retry_key is not None:
            try:
                uuid.UUID(retry_key)
            except ValueError:
                return 400, {}, {"message": "The retry key must be a UUID"}
        with self.state.lock:
            if retry_key is not None and retry_key in self.state.retry_keys:
                return (
                    409,
                    {"x-line-accepted-request-id": self.state.retry_keys[retry_key]},
                    {"message": "The retry key is already accepted"},
                )
            if retry_key is not None:
                self.state.retry_keys[retry_key] = request_id
            self.state.accepted.append(Accepted(to, "push", body["messages"], request_id, retry_key))
        return 200, {}, timeout or {"sentMessages": [{"id": str(i)} for i in range(len(body["messages"]))]}


# ---------------------------------------------------------------- rich menus (as LINE checks them)

RICHMENU_IMAGE_MAX = 1024 * 1024


def _check_richmenu(menu: Any) -> str | None:
    """LINE's rules for a rich menu object (Messaging API reference, "Rich menu object")."""
    from linebot.v3.messaging import RichMenuRequest

    if not isinstance(menu, dict):
        return "rich menu: an object is required"
    size = menu.get("size") or {}
    width, height = size.get("width"), size.get("height")
    if not isinstance(width, int) or not isinstance(height, int):
        return "size: width and height required"
    if not (800 <= width <= 2500 and height >= 250 and width / height >= 1.45):
        return "size: width 800-2500, height >= 250, width/height >= 1.45"
    if not isinstance(menu.get("selected"), bool):
        return "selected: a boolean is required"
    name = menu.get("name")
    if not isinstance(name, str) or not 1 <= len(name) <= 300:
        return "name: 1-300 characters"
    chat_bar = menu.get("chatBarText")
    if not isinstance(chat_bar, str) or not 1 <= len(chat_bar) <= 14:
        return "chatBarText: 1-14 characters"
    areas = menu.get("areas")
    if not isinstance(areas, list) or not 1 <= len(areas) <= 20:
        return "areas: size must be between 1 and 20"
    for area in areas:
        b = area.get("bounds") or {}
        if not all(isinstance(b.get(k), int) and b[k] >= 0 for k in ("x", "y", "width", "height")):
            return "areas[].bounds: x, y, width, height required"
        if (
            b["width"] == 0
            or b["height"] == 0
            or b["x"] + b["width"] > width
            or b["y"] + b["height"] > height
        ):
            return "areas[].bounds: outside the rich menu"
        action = area.get("action") or {}
        if action.get("type") == "postback":
            if not isinstance(action.get("data"), str) or not 1 <= len(action["data"]) <= 300:
                return "postback.data: 1-300 characters"
            if "displayText" in action and not 1 <= len(action["displayText"]) <= 300:
                return "postback.displayText: 1-300 characters"
        if "label" in action and len(action["label"]) > 20:
            return "action.label: at most 20 characters"
    try:
        if RichMenuRequest.from_dict(menu) is None:
            return "invalid request body"
    except Exception as exc:
        return f"invalid request body: {exc}"
    return None


def _image_size(data: bytes) -> tuple[int, int] | None:
    import io

    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.size
    except Exception:
        return None


def _handle_richmenu(
    self: FakeLine, method: str, path: str, headers: dict[str, str], raw: bytes, *, data_host: bool
):
    h = {k.lower(): v for k, v in headers.items()}
    parts = path.strip("/").split("/")
    status, out_headers, out = _decide_richmenu(self, method, parts, h, raw, data_host=data_host)
    try:
        body: Any = (
            json.loads(raw) if raw and h.get("content-type", "").startswith("application/json") else None
        )
    except ValueError:
        body = None
    with self.state.lock:
        self.state.requests.append(Recorded(method, path, h, body, status, time.time()))
    return status, {"x-line-request-id": str(uuid.uuid4()), **out_headers}, out


def _decide_richmenu(
    self: FakeLine, method: str, parts: list[str], h: dict[str, str], raw: bytes, *, data_host: bool
):
    if h.get("authorization") != f"Bearer {self.access_token}":
        return 401, {}, {"message": "Authentication failed due to the following reason: invalid token."}
    st = self.state
    is_content = len(parts) == 5 and parts[4] == "content"
    if is_content != data_host:
        # LINE serves images only on api-data.line.me, and everything else only on api.line.me.
        return 404, {}, {"message": "Not found"}
    # v2/bot/richmenu | v2/bot/richmenu/list | v2/bot/richmenu/{id} | v2/bot/richmenu/{id}/content
    # v2/bot/user/all/richmenu/{id}
    if parts[:4] == ["v2", "bot", "user", "all"] and len(parts) == 6 and method == "POST":
        menu_id = parts[5]
        with st.lock:
            entry = st.richmenus.get(menu_id)
            if entry is None:
                return 404, {}, {"message": "richmenu not found"}
            if entry["image"] is None:
                return 400, {}, {"message": "must upload richmenu image before applying it to user"}
            st.default_richmenu = menu_id
        return 200, {}, {}
    rest = parts[3:]
    if method == "POST" and not rest:
        if not h.get("content-type", "").startswith("application/json"):
            return 415, {}, {"message": "Content-Type must be application/json"}
        try:
            menu = json.loads(raw)
        except ValueError:
            return 400, {}, {"message": "The request body could not be parsed as JSON"}
        problem = _check_richmenu(menu)
        if problem:
            return 400, {}, {"message": "The request body has 1 error(s)", "details": [{"message": problem}]}
        menu_id = "richmenu-" + uuid.uuid4().hex
        with st.lock:
            st.richmenus[menu_id] = {"menu": menu, "image": None, "content_type": None}
        return 200, {}, {"richMenuId": menu_id}
    if method == "GET" and rest == ["list"]:
        with st.lock:
            menus = [{"richMenuId": k, **v["menu"]} for k, v in st.richmenus.items()]
        return 200, {}, {"richmenus": menus}
    if len(rest) == 2 and rest[1] == "content" and method == "POST":
        content_type = h.get("content-type", "")
        if content_type not in ("image/png", "image/jpeg"):
            return 415, {}, {"message": "Content-Type must be image/png or image/jpeg"}
        if len(raw) > RICHMENU_IMAGE_MAX:
            return 413, {}, {"message": "image larger than 1 MB"}
        with st.lock:
            entry = st.richmenus.get(rest[0])
            if entry is None:
                return 404, {}, {"message": "richmenu not found"}
            if entry["image"] is not None:
                return 400, {}, {"message": "An image has already been uploaded to the richmenu"}
            size = _image_size(raw)
            menu_size = (entry["menu"]["size"]["width"], entry["menu"]["size"]["height"])
            if size != menu_size:
                return (
                    400,
                    {},
                    {"message": f"image size {size} does not match the rich menu size {menu_size}"},
                )
            entry["image"], entry["content_type"] = raw, content_type
        return 200, {}, {}
    if len(rest) == 1 and method in ("GET", "DELETE"):
        with st.lock:
            entry = st.richmenus.get(rest[0])
            if entry is None:
                return 404, {}, {"message": "richmenu not found"}
            if method == "GET":
                return 200, {}, {"richMenuId": rest[0], **entry["menu"]}
            del st.richmenus[rest[0]]
            if st.default_richmenu == rest[0]:
                st.default_richmenu = None
        return 200, {}, {}
    return 404, {}, {"message": "Not found"}


if __name__ == "__main__":
    # python -m tests.support.fake_line PORT — a fake in its own process (benchmarks).
    import sys

    server = FakeLine(accept_unknown_reply_tokens=True, port=int(sys.argv[1])).start()
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.stop()
