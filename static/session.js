/* A ticket's interactive session over its WebSocket (app/routes/session.py), loaded by app.js on ticket pages
   whose agent sessions are on. The socket brings the session's bar and the conversation's frames (replayed from
   the last seq the page shows, so a reload or a second tab catches up); Start, Stop and "Send to agent" go over
   it while it is open. When it is not, those forms post as plain forms: nothing here is needed to use them. */
(() => {
  "use strict";

  const MAX_RETRY_S = 30;

  function timeline() { return document.getElementById("timeline"); }

  function lastSeq() { return Number(timeline()?.dataset.lastSeq || 0); }

  function csrfToken() {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRF-Token"] || ""; }
    catch (_) { return ""; }
  }

  function socketUrl(path) {
    const url = new URL(path, window.location.href);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    return url.href;
  }

  function attach(section) {
    if (section.mcSession) return;
    const session = { socket: null, retryS: 0, waiting: new Map(), nextId: 1 };
    section.mcSession = session;
    connect(section, session);
  }

  function connect(section, session) {
    if (!document.body.contains(section)) return;  // the page moved on: no reconnecting
    const socket = new WebSocket(socketUrl(section.dataset.sessionSocket));
    session.socket = socket;
    socket.addEventListener("open", () => {
      session.retryS = 0;
      section.dataset.sessionLive = "true";
      socket.send(JSON.stringify({ type: "hello", csrf: csrfToken(), after: lastSeq() }));
    });
    socket.addEventListener("message", (event) => {
      let message;
      try { message = JSON.parse(event.data); } catch (_) { return; }
      handle(session, message);
    });
    socket.addEventListener("close", (event) => {
      session.socket = null;
      delete section.dataset.sessionLive;
      for (const [, reject] of session.waiting.values()) reject(new Error("The connection to the server closed."));
      session.waiting.clear();
      if (event.code === 1008 || event.code === 4404) {  // refused: trying again would be refused again
        if (event.reason) window.mcToast?.(event.reason);
        return;
      }
      session.retryS = Math.min(MAX_RETRY_S, Math.max(1, session.retryS * 2));
      setTimeout(() => connect(section, session), session.retryS * 1000);
    });
  }

  function handle(session, message) {
    if (message.type === "frame") {
      const list = timeline();
      if (!list || message.seq <= lastSeq()) return;  // shown already (the SSE stream got there first)
      list.dataset.lastSeq = String(message.seq);
      htmx.swap(list, message.html, { swapStyle: "beforeend" });
      document.dispatchEvent(new CustomEvent("mc:frame"));
    } else if (message.type === "session") {
      const bar = document.getElementById("agent-session");
      if (bar) htmx.swap(bar, message.html, { swapStyle: "outerHTML" });
    } else if (message.type === "ok" || message.type === "error") {
      const waiter = session.waiting.get(message.id);
      session.waiting.delete(message.id);
      if (message.type === "error") {
        window.mcToast?.(message.message);
        if (waiter) waiter[1](new Error(message.message));
      } else if (waiter) {
        waiter[0]();
      }
    }
  }

  function send(session, type, text) {
    const id = String(session.nextId++);
    return new Promise((resolve, reject) => {
      session.waiting.set(id, [resolve, reject]);
      session.socket.send(JSON.stringify({ type, text: text || "", id }));
    });
  }

  // Capture phase: the socket takes the form before htmx (or the browser) posts it.
  document.addEventListener("submit", (event) => {
    const form = event.target;
    const section = form instanceof HTMLFormElement ? form.closest("#conversation") : null;
    const session = section?.mcSession;
    const action = event.submitter?.dataset.sessionAction || form?.dataset.sessionAction;
    if (!action || !session?.socket || session.socket.readyState !== WebSocket.OPEN) return;
    event.preventDefault();
    event.stopPropagation();
    const box = action === "stop" ? null : form.querySelector("textarea");
    const buttons = form.querySelectorAll("button");
    buttons.forEach((b) => { b.disabled = true; });
    send(session, action, box ? box.value : "")
      .then(() => { if (box) { box.value = ""; box.focus(); } }, () => {})
      .finally(() => { buttons.forEach((b) => { b.disabled = false; }); });
  }, true);

  window.mcSession = { attach };
})();
