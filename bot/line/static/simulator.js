// The LINE simulator page. Everything goes through the server: /simulator/api/events builds and
// signs a real webhook event; replies arrive through the bot's outbox at the in-app fake LINE API.
(function () {
  "use strict";
  const $ = (sel) => document.querySelector(sel);
  const log = $("#log");
  const quick = $("#quick");
  const typing = $("#typing");
  const text = $("#text");
  let lastSeq = 0;

  function newUserId() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return "U" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }
  let userId = localStorage.getItem("consult-sim-user");
  const firstVisit = !userId;
  if (!userId) { userId = newUserId(); localStorage.setItem("consult-sim-user", userId); }
  $("#user-id").textContent = userId;

  function el(tag, cls, content) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (content !== undefined) e.textContent = content;
    return e;
  }
  function scrollDown() { log.scrollTop = log.scrollHeight; }

  function addMine(content) {
    const row = el("div", "row me");
    row.appendChild(el("div", "bubble", content));
    log.appendChild(row);
    scrollDown();
  }
  function addSystem(content) { log.appendChild(el("div", "system", content)); scrollDown(); }

  function addBot(message) {
    const row = el("div", "row");
    const avatar = el("div", "avatar");
    const col = el("div", "col");
    const sender = message.sender;
    if (sender && sender.iconUrl) { const img = document.createElement("img"); img.src = sender.iconUrl; img.alt = ""; avatar.appendChild(img); }
    else avatar.textContent = sender ? sender.name.slice(0, 2) : "相談";
    col.appendChild(el("div", "sender", sender ? sender.name : "福祉まるごと相談"));
    if (message.type === "text") col.appendChild(el("div", "bubble", message.text));
    else if (message.type === "flex") col.appendChild(renderFlex(message.contents));
    else col.appendChild(el("div", "bubble", "[" + message.type + "]"));
    row.appendChild(avatar); row.appendChild(col);
    log.appendChild(row);
    showQuickReplies(message.quickReply);
    scrollDown();
  }

  // ---- Flex: bubble / carousel with box, text, button, separator, image, spacer.
  function renderFlex(contents) {
    if (contents.type === "carousel") {
      const c = el("div", "carousel");
      (contents.contents || []).forEach((b) => c.appendChild(renderBubble(b)));
      return c;
    }
    return renderBubble(contents);
  }
  function renderBubble(b) {
    const box = el("div", "fbubble");
    ["header", "hero", "body", "footer"].forEach((part) => {
      if (!b[part]) return;
      const p = el("div", "fpart");
      if (b.styles && b.styles[part] && b.styles[part].backgroundColor) p.style.background = b.styles[part].backgroundColor;
      if (part === "hero" && b.hero.type === "image") { p.style.padding = "0"; }
      p.appendChild(renderComponent(b[part]));
      box.appendChild(p);
    });
    return box;
  }
  function renderComponent(c) {
    switch (c.type) {
      case "box": {
        const b = el("div", "fbox " + (c.layout || "vertical"));
        if (c.spacing) b.style.gap = { none: "0", xs: "2px", sm: "4px", md: "8px", lg: "12px", xl: "16px", xxl: "20px" }[c.spacing] || "6px";
        if (c.backgroundColor) b.style.background = c.backgroundColor;
        if (c.paddingAll) b.style.padding = c.paddingAll;
        (c.contents || []).forEach((x) => { const child = renderComponent(x); if (x.flex !== undefined) child.style.flex = String(x.flex); b.appendChild(child); });
        return b;
      }
      case "text": {
        const t = el("div", "ftext" + (c.weight === "bold" ? " bold" : ""),
          c.text !== undefined ? c.text : (c.contents || []).map((s) => s.text).join(""));
        if (c.color) t.style.color = c.color;
        const sizes = { xxs: "10px", xs: "11px", sm: "13px", md: "14px", lg: "16px", xl: "18px", xxl: "21px", "3xl": "24px" };
        if (c.size && sizes[c.size]) t.style.fontSize = sizes[c.size];
        if (c.align) t.style.textAlign = c.align === "end" ? "right" : c.align;
        return t;
      }
      case "button": {
        const a = c.action || {};
        const btn = el("button", "fbutton " + (c.style || "link"), a.label || "");
        btn.type = "button";
        if (c.color && c.style === "primary") btn.style.background = c.color;
        btn.addEventListener("click", () => runAction(a));
        return btn;
      }
      case "separator": return el("hr", "fsep");
      case "spacer": { const s = el("div"); s.style.height = "8px"; return s; }
      case "image": { const i = document.createElement("img"); i.className = "fimage"; i.src = c.url; i.alt = ""; return i; }
      case "icon": { const i = document.createElement("img"); i.src = c.url; i.alt = ""; i.style.width = "14px"; return i; }
      default: return el("div");
    }
  }

  function runAction(a) {
    if (a.type === "postback") {
      if (a.displayText) addMine(a.displayText);
      send({ kind: "postback", data: a.data });
    } else if (a.type === "message") {
      addMine(a.text);
      send({ kind: "text", text: a.text });
    } else if (a.type === "uri" && a.uri) {
      window.open(a.uri, "_blank", "noopener");
    }
  }

  function showQuickReplies(qr) {
    quick.innerHTML = "";
    if (!qr || !qr.items) return;
    qr.items.forEach((item) => {
      const a = item.action || {};
      const b = el("button", "", a.label || "");
      b.type = "button";
      b.addEventListener("click", () => { quick.innerHTML = ""; runAction(a); });
      quick.appendChild(b);
    });
  }

  async function send(payload) {
    const res = await fetch("/simulator/api/events", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(Object.assign({ userId: userId }, payload)),
    });
    if (!res.ok) addSystem("送信できませんでした（" + res.status + "）");
    poll();
  }

  let polling = false;
  async function poll() {
    if (polling) return;
    polling = true;
    try {
      const res = await fetch("/simulator/api/messages?userId=" + encodeURIComponent(userId) + "&after=" + lastSeq);
      if (res.ok) {
        const data = await res.json();
        data.messages.forEach((m) => { lastSeq = Math.max(lastSeq, m.seq); addBot(m.message); });
        typing.hidden = !data.loading;
      }
    } catch (e) { /* the server restarts now and then; the next poll retries */ }
    polling = false;
  }
  setInterval(poll, 800);

  $("#composer").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const value = text.value.trim();
    if (!value) return;
    text.value = "";
    quick.innerHTML = "";
    addMine(value);
    send({ kind: "text", text: value });
  });
  text.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) { ev.preventDefault(); $("#composer").requestSubmit(); }
  });
  document.querySelectorAll("[data-kind]").forEach((b) => b.addEventListener("click", () => {
    const kind = b.dataset.kind;
    const labels = { sticker: "（スタンプ）", image: "（画像）", location: "（位置情報）", follow: "友だち追加しました", unfollow: "ブロックしました" };
    if (kind === "follow" || kind === "unfollow") addSystem(labels[kind]); else addMine(labels[kind]);
    closeMenu();
    send({ kind: kind });
  }));
  const menu = $("#menu");
  function closeMenu() { menu.hidden = true; $("#menu-toggle").setAttribute("aria-expanded", "false"); }
  $("#menu-toggle").addEventListener("click", () => {
    menu.hidden = !menu.hidden;
    $("#menu-toggle").setAttribute("aria-expanded", String(!menu.hidden));
  });
  $("#new-user").addEventListener("click", () => {
    localStorage.removeItem("consult-sim-user");
    location.reload();
  });

  if (firstVisit) { addSystem("友だち追加しました"); send({ kind: "follow" }); }
  else { addSystem("前回の続きです（メニューから別の人として始められます）"); poll(); }
})();
