// 相談員画面: live updates (SSE), double-submit guard, canned replies. No build step.
"use strict";

function onceForms() {
  document.querySelectorAll("form[data-once]").forEach((form) => {
    form.addEventListener("submit", (e) => {
      if (form.dataset.submitting) { e.preventDefault(); return; }
      if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) { e.preventDefault(); return; }
      form.dataset.submitting = "1";
      // Disable after the browser has taken the clicked button's value.
      setTimeout(() => form.querySelectorAll("button").forEach((b) => { b.disabled = true; }), 0);
    });
  });
}

function cannedReplies() {
  const select = document.getElementById("canned-select");
  const box = document.getElementById("reply-text");
  if (!select || !box) return;
  select.addEventListener("change", () => {
    if (!select.value) return;
    const text = select.value.replaceAll("{name}", select.dataset.name || "");
    box.value = box.value ? box.value + "\n" + text : text;
    select.value = "";
    box.focus();
  });
}

function showAlert(text) {
  const el = document.getElementById("live-alert");
  if (!el) return;
  el.textContent = text;
  el.hidden = false;
  el.classList.remove("pulse"); void el.offsetWidth; el.classList.add("pulse");
  if (!document.title.startsWith("● ")) document.title = "● " + document.title;
  clearTimeout(showAlert.timer);
  showAlert.timer = setTimeout(() => { el.hidden = true; document.title = document.title.replace(/^● /, ""); }, 15000);
}

function liveStatus(ok) {
  const el = document.getElementById("live-status") || document.getElementById("chat-live");
  if (!el) return;
  el.textContent = ok ? "● 自動更新中" : "○ 再接続中…";
  el.classList.toggle("offline", !ok);
}

function liveQueue() {
  const box = document.querySelector("[data-live-queue]");
  if (!box || !window.EventSource) return;
  let known = null;
  const es = new EventSource("/staff/events");
  es.addEventListener("open", () => liveStatus(true));
  es.addEventListener("error", () => liveStatus(false));
  es.addEventListener("gone", () => es.close());
  es.addEventListener("queue", async (e) => {
    const data = JSON.parse(e.data);
    if (known === null) { known = data; return; }
    // Content-free on purpose: no category or words in a banner someone might glance at.
    if (data.urgent_waiting > known.urgent_waiting) {
      showAlert("緊急の相談があります（未対応 " + data.waiting + "件）");
    } else if (data.latest_id > known.latest_id) {
      showAlert("新しい相談が届きました（未対応 " + data.waiting + "件）");
    } else if (data.mine_last_resident > known.mine_last_resident) {
      showAlert("担当中の相談者から、新しいメッセージがあります");
    } else if (data.withdrawn_mine > known.withdrawn_mine) {
      showAlert("担当中の相談が、相談者の希望で取り下げられました");
    }
    known = data;
    const html = await fetchFragment("/staff/queue/rows?" + box.dataset.query);
    if (html !== null) box.innerHTML = html;
  });
}

function liveCase() {
  const head = document.querySelector("[data-live-case]");
  const chat = document.querySelector("[data-live-chat]");
  if (!head || !window.EventSource) return;
  const id = head.dataset.liveCase;
  let known = null;
  const es = new EventSource("/staff/cases/" + id + "/events");
  es.addEventListener("open", () => liveStatus(true));
  es.addEventListener("error", () => liveStatus(false));
  es.addEventListener("gone", () => { es.close(); document.getElementById("case-changed").hidden = false; });
  const scrollDown = () => { if (chat) chat.scrollTop = chat.scrollHeight; };
  scrollDown();
  es.addEventListener("case", async (e) => {
    const data = JSON.parse(e.data);
    if (known === null) { known = data; return; }
    if (data.status !== known.status || data.owner_id !== known.owner_id) {
      document.getElementById("case-changed").hidden = false;
    }
    if (chat && data.last_event !== known.last_event) {
      const html = await fetchFragment("/staff/cases/" + id + "/chat");
      if (html !== null) { chat.innerHTML = html; scrollDown(); }
    }
    known = data;
  });
}

// No inline handlers (the pages send a strict Content-Security-Policy).
function smallBehaviours() {
  document.querySelectorAll("select[data-autosubmit]").forEach((el) => {
    el.addEventListener("change", () => el.form.submit());
  });
  document.querySelectorAll("[data-print]").forEach((el) => el.addEventListener("click", () => window.print()));
}

// A fragment fetch that was redirected to the login page means the session ended.
async function fetchFragment(url) {
  const resp = await fetch(url, { credentials: "same-origin" });
  if (resp.redirected && new URL(resp.url).pathname === "/staff/login") {
    window.location.href = "/staff/login";
    return null;
  }
  return resp.ok ? resp.text() : null;
}

document.addEventListener("DOMContentLoaded", () => {
  smallBehaviours();
  onceForms();
  cannedReplies();
  liveQueue();
  liveCase();
});
