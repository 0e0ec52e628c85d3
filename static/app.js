// Mission Control's script. Every link and form works without it; it adds the keyboard, dialogs,
// drag and drop, and keeps focus where a person left it when htmx swaps a piece of the page.
"use strict";

// htmx copies an old element's `style` attribute onto its replacement while it settles. SortableJS leaves
// style="" on every card it animated, and the CSP (style-src 'self') refuses each copy with a console error.
// Nothing here uses inline styles, so there is no style to settle.
htmx.config.attributesToSettle = ["class", "width", "height"];

// The board's columns in order, and their names, as the server states them (app/rules.py).
const COLUMNS = JSON.parse(document.body.dataset.columns || "[]");
const STATUSES = COLUMNS.map(([status]) => status);
const LABELS = Object.fromEntries(COLUMNS);

/* ---------- small helpers ---------- */

function csrfHeaders() {
  try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}"); } catch (_) { return {}; }
}

function announce(text) {
  const region = document.getElementById("board-status") || document.getElementById("ticket-note")
    || document.getElementById("mc-announce");
  if (region) region.textContent = text;
}

function isTyping(target) {
  if (!(target instanceof Element)) return false;
  return Boolean(target.closest("input, textarea, select, [contenteditable=''], [contenteditable='true']"));
}

function focusedCard() {
  const active = document.activeElement;
  return active instanceof Element ? active.closest("li.card") : null;
}

function focusCard(card) {
  if (!card) return false;
  const link = card.querySelector("a");
  if (!link) return false;
  link.focus();
  card.scrollIntoView({ block: "nearest", inline: "nearest" });
  return true;
}

function columns() {
  return Array.from(document.querySelectorAll("#board-columns ol.cards"));
}

function cardsOf(list) {
  return Array.from(list.querySelectorAll(":scope > li.card"));
}

function post(url, values) {
  // htmx processes the out-of-band slots in the answer; the source element inherits the CSRF header.
  return htmx.ajax("POST", url, { values, swap: "none", source: document.body, headers: csrfHeaders() });
}

/* ---------- dialogs: one <dialog> filled from the server ---------- */

function dialog() {
  let box = document.getElementById("mc-dialog");
  if (!box) {
    box = document.createElement("dialog");
    box.id = "mc-dialog";
    box.className = "mc-dialog";
    box.setAttribute("aria-modal", "true");
    box.tabIndex = 0; // a long dialog (the keys help) scrolls: focusable, so the arrow keys scroll it
    box.innerHTML = '<div id="mc-dialog-body"></div>';
    box.addEventListener("close", () => {
      document.getElementById("mc-dialog-body").replaceChildren();
      if (box.returnFocusTo && document.contains(box.returnFocusTo)) box.returnFocusTo.focus();
    });
    box.addEventListener("click", (event) => {
      if (event.target === box) box.close(); // a click on the backdrop
      if (event.target instanceof Element && event.target.closest("[data-close-dialog]")) {
        event.preventDefault();
        box.close();
      }
    });
    document.body.append(box);
  }
  return box;
}

function openDialog(url, label, focusSelector) {
  const box = dialog();
  box.setAttribute("aria-label", label);
  // Opened over an open dialog (Ctrl+K again), Esc should still go back to where the first one was opened.
  if (!box.open) box.returnFocusTo = document.activeElement;
  typedAhead = [];
  htmx.ajax("GET", url, { target: "#mc-dialog-body", swap: "innerHTML" }).then(() => {
    const keys = typedAhead || [];
    typedAhead = null;
    // htmx wires the new content's hx-triggers only when it settles, a moment after this: wire them now, or
    // the first letters typed into the palette's field would search nothing.
    htmx.process(box);
    if (!box.open) box.showModal();
    const first = box.querySelector(focusSelector || "input:not([type=hidden]), textarea, select, button, a");
    if (!first) { box.focus(); return; }
    first.focus();
    if (keys.length && "value" in first) {
      first.value += keys.join("");
      first.dispatchEvent(new Event("input", { bubbles: true }));
    }
  }, () => { typedAhead = null; });
}

// What a person types while a dialog is still loading belongs in its first field, not to the board's keys.
let typedAhead = null;

/* ---------- board actions ---------- */

function moveCard(card, status) {
  if (!card || !STATUSES.includes(status)) return;
  if (card.closest("ol.cards")?.dataset.status === status) return;
  post(`/ticket/${cardId(card)}/move`, { status });
}

function stepColumn(card, delta) {
  const list = card?.closest("ol.cards");
  if (!list) return;
  const next = STATUSES[STATUSES.indexOf(list.dataset.status) + delta];
  if (next) moveCard(card, next);
}

function setPriority(card, level) {
  post(`/board/cards/${cardId(card)}`, { priority: String(level) });
}

function cardId(card) {
  return card.id.replace(/^card-/, "");
}

function assign(card) {
  const current = card.querySelector(".who")?.textContent || "";
  const box = dialog();
  box.setAttribute("aria-label", `Assign ${cardId(card)}`);
  box.returnFocusTo = card.querySelector("a");
  const options = Array.from(document.querySelectorAll("#board-assignee option"))
    .map((o) => o.value).filter((v) => v && v !== "none");
  const body = document.getElementById("mc-dialog-body");
  body.replaceChildren();
  const form = document.createElement("form");
  form.className = "assign-form";
  form.innerHTML = `<h2>Assign ${cardId(card)}</h2><label for="assign-input">Assignee (empty to unassign)</label>
    <input id="assign-input" name="assigned_to" list="assign-options" autocomplete="off" maxlength="80">
    <datalist id="assign-options"></datalist>
    <div class="form-actions"><button type="submit">Assign</button> <button type="button" data-close-dialog>Cancel</button></div>`;
  form.querySelector("#assign-input").value = current;
  const list = form.querySelector("#assign-options");
  for (const name of options) { const o = document.createElement("option"); o.value = name; list.append(o); }
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    post(`/board/cards/${cardId(card)}`, { assigned_to: form.querySelector("#assign-input").value });
    box.close();
  });
  body.append(form);
  box.showModal();
  form.querySelector("#assign-input").select();
}

/* ---------- move mode: m then 1-6 (or the column's first letter) ---------- */

let moveMode = null;

function startMoveMode(card) {
  moveMode = card;
  let hint = document.getElementById("mc-hint");
  if (!hint) {
    hint = Object.assign(document.createElement("div"), { id: "mc-hint", className: "key-hint" });
    hint.setAttribute("role", "status");
    document.body.append(hint);
  }
  hint.textContent = `Move ${cardId(card)} to: ` + STATUSES.map((s, i) => `${i + 1} ${LABELS[s]}`).join(" · ") + " (Esc cancels)";
  hint.hidden = false;
}

function endMoveMode() {
  moveMode = null;
  const hint = document.getElementById("mc-hint");
  if (hint) hint.hidden = true;
}

/* ---------- palette (Ctrl+K) ---------- */

function openPalette() {
  // Over an open dialog, the card is the one that had focus before the dialog took it.
  const box = document.getElementById("mc-dialog");
  const from = box?.open ? box.returnFocusTo : document.activeElement;
  const card = from instanceof Element ? from.closest("li.card") : null;
  const query = card ? `?card=${encodeURIComponent(cardId(card))}` : "";
  openDialog(`/palette${query}`, "Command palette", "#search-q");
}

function paletteOptions() {
  return Array.from(document.querySelectorAll("#mc-dialog #palette-list [role=option]"));
}

function movePaletteSelection(delta) {
  const options = paletteOptions();
  if (!options.length) return;
  let index = options.findIndex((o) => o.getAttribute("aria-selected") === "true");
  index = index < 0 ? (delta > 0 ? 0 : options.length - 1) : (index + delta + options.length) % options.length;
  options.forEach((o, i) => o.setAttribute("aria-selected", String(i === index)));
  const input = document.getElementById("search-q");
  if (input) input.setAttribute("aria-activedescendant", options[index].id);
  options[index].scrollIntoView({ block: "nearest" });
}

function activatePaletteSelection() {
  const chosen = paletteOptions().find((o) => o.getAttribute("aria-selected") === "true") || paletteOptions()[0];
  if (!chosen) return false;
  chosen.click(); // the option is the link or the action's submit button
  return true;
}

// On the board a palette action runs in place, as its key would: the columns swap, the card keeps focus and
// the live region says what happened. (A plain submit would reload the board and drop focus on <main>.)
// Capture phase, so htmx's boosted-form handler on the form never sees the submit.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.closest("#mc-dialog #palette-list")) return;
  if (!document.querySelector("[data-board]")) return;
  event.preventDefault();
  event.stopPropagation();
  post(form.getAttribute("action"), Object.fromEntries(new FormData(form)));
  dialog().close();
}, true);

/* ---------- the keyboard ---------- */

let pendingG = 0;

function handleBoardKey(event, card) {
  const key = event.key;
  const list = card?.closest("ol.cards");
  if (moveMode) {
    const byNumber = STATUSES[Number(key) - 1];
    const byLetter = STATUSES.find((s) => s[0] === key.toLowerCase() && key.length === 1);
    const status = byNumber || byLetter;
    const moving = moveMode;
    endMoveMode();
    if (status) moveCard(moving, status);
    return true;
  }
  if (key === "j" || key === "ArrowDown" || key === "k" || key === "ArrowUp") {
    if (!card) return focusCard(cardsOf(columns()[0] || document.body)[0]);
    const cards = cardsOf(list);
    const next = cards[cards.indexOf(card) + (key === "j" || key === "ArrowDown" ? 1 : -1)];
    return focusCard(next) || true;
  }
  if (key === "h" || key === "ArrowLeft" || key === "l" || key === "ArrowRight") {
    const all = columns();
    if (!card) return focusCard(cardsOf(all[0])[0]);
    const index = all.indexOf(list);
    const step = key === "h" || key === "ArrowLeft" ? -1 : 1;
    for (let i = index + step; i >= 0 && i < all.length; i += step) {
      const cards = cardsOf(all[i]);
      if (cards.length) return focusCard(cards[Math.min(cardsOf(list).indexOf(card), cards.length - 1)]);
    }
    return true;
  }
  if (!card) return false;
  if (key === "o") { card.querySelector("a").click(); return true; }
  if (key === "m") { startMoveMode(card); return true; }
  if (key === "[") { stepColumn(card, -1); return true; }
  if (key === "]") { stepColumn(card, 1); return true; }
  if (["1", "2", "3", "4"].includes(key)) { setPriority(card, Number(key)); return true; }
  if (key === "a") { assign(card); return true; }
  return false;
}

document.addEventListener("keydown", (event) => {
  if (typedAhead) {
    if (event.key === "Escape") typedAhead = null;
    else if (event.key.length === 1 && !event.ctrlKey && !event.metaKey && !event.altKey) typedAhead.push(event.key);
    event.preventDefault();
    return;
  }
  const dialogOpen = document.getElementById("mc-dialog")?.open;
  if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "k") {
    event.preventDefault();
    openPalette();
    return;
  }
  if (event.key === "Escape") {
    if (moveMode) { endMoveMode(); event.preventDefault(); return; }
    if (dialogOpen) {
      // Close it ourselves: in a search field (the palette's) Chromium's Escape only empties the field.
      event.preventDefault();
      document.getElementById("mc-dialog").close();
      return;
    }
    const menu = document.getElementById("navmenu");
    if (menu?.open) { menu.open = false; menu.querySelector("summary").focus(); event.preventDefault(); return; }
    // Esc in the board's filter empties it and shows the whole board again (the URL loses its ?q=: see
    // htmx:configRequest below), then leaves the field.
    if (event.target.id === "board-q" && event.target.value) {
      event.preventDefault();
      event.target.value = "";
      event.target.dispatchEvent(new Event("input", { bubbles: true }));
    }
    const editBox = document.getElementById("edit-box");
    if (editBox?.open) { editBox.open = false; document.getElementById("edit-toggle")?.focus(); event.preventDefault(); return; }
    if (isTyping(event.target)) event.target.blur();
    if (ticketMoveMode) { ticketMoveMode = false; announce("Move cancelled."); }
    return;
  }
  // Ctrl+Enter sends the form being filled in a dialog (the new ticket's), also from its description.
  if ((event.ctrlKey || event.metaKey) && event.key === "Enter" && event.target instanceof Element) {
    const form = event.target.closest("form");
    if (form && (form.closest("#mc-dialog") || form.id === "new-ticket-form")) {
      event.preventDefault();
      form.requestSubmit();
      return;
    }
  }
  if (dialogOpen) {
    if (document.getElementById("palette-list")) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        movePaletteSelection(event.key === "ArrowDown" ? 1 : -1);
      } else if (event.key === "Enter" && event.target.id === "search-q" && paletteOptions().length) {
        event.preventDefault();
        activatePaletteSelection();
      }
    }
    return;
  }
  if (event.ctrlKey || event.metaKey || event.altKey || isTyping(event.target)) return;

  if (pendingG && Date.now() - pendingG < 1500) {
    pendingG = 0;
    const where = { b: "/board", a: "/activity", o: "/" }[event.key];
    const link = where && document.querySelector(`nav[aria-label="Main"] a[href="${where}"]`);
    if (link) { event.preventDefault(); link.click(); } // the boosted link: a swap and a history entry
    return;
  }
  pendingG = 0;
  if (event.key === "g") { pendingG = Date.now(); return; }
  if (event.key === "?") { event.preventDefault(); openDialog("/keys", "Keyboard shortcuts"); return; }

  if (event.key === "/") {
    // The board's own filter on the board; anywhere else, the one search over everything.
    event.preventDefault();
    const field = document.getElementById("board-q") || document.getElementById("search-page-q");
    if (field) { field.focus(); field.select(); } else { window.location.assign("/search"); }
    return;
  }
  if (document.querySelector("[data-ticket]")) {
    if (handleTicketKey(event)) event.preventDefault();
    return;
  }
  const onBoard = document.querySelector("[data-board]");
  if (!onBoard) return;
  if (event.key === "c") {
    event.preventDefault();
    const status = focusedCard()?.closest("ol.cards")?.dataset.status || "backlog";
    openDialog(`/tickets/new?status=${status}`, "New ticket", "#new-title");
    return;
  }
  if (handleBoardKey(event, focusedCard())) event.preventDefault();
});

/* ---------- the ticket page's keys: the board's, for this ticket, plus edit and reply ---------- */

let ticketMoveMode = false;

// Set a property field and let htmx save it, as if the person had picked the value.
function setProperty(id, value) {
  const field = document.getElementById(id);
  if (!field || field.value === String(value)) return Boolean(field);
  field.value = String(value);
  field.dispatchEvent(new Event("change", { bubbles: true }));
  return true;
}

function handleTicketKey(event) {
  const key = event.key;
  if (ticketMoveMode) {
    ticketMoveMode = false;
    const status = STATUSES[Number(key) - 1];
    if (status) { setProperty("edit-status", status); announce(`Moving to ${LABELS[status]}.`); }
    else announce("Move cancelled.");
    return true;
  }
  if (["1", "2", "3", "4"].includes(key)) return setProperty("edit-priority", key);
  if (key === "m" && document.getElementById("edit-status")) {
    ticketMoveMode = true;
    announce(`Move to which column? Press 1 to ${STATUSES.length}: ${STATUSES.map((s) => LABELS[s]).join(", ")}.`);
    return true;
  }
  if (key === "[" || key === "]") {
    const select = document.getElementById("edit-status");
    const status = select && STATUSES[STATUSES.indexOf(select.value) + (key === "]" ? 1 : -1)];
    return status ? setProperty("edit-status", status) : Boolean(select);
  }
  if (key === "a") {
    const field = document.getElementById("edit-assignee");
    if (field) { field.focus(); field.select(); }
    return Boolean(field);
  }
  if (key === "e") {
    const box = document.getElementById("edit-box");
    if (!box) return false;
    box.open = true;
    document.getElementById("edit-title")?.focus();
    return true;
  }
  if (key === "r") {
    const body = document.getElementById("comment-body");
    if (!body) return false;
    body.focus();
    body.scrollIntoView({ block: "center", behavior: "instant" });
    return true;
  }
  return false;
}

/* ---------- after a swap: focus stays on the same card, dialogs close when their work is done ---------- */

let lastFocusedCardId = null;

document.addEventListener("focusin", (event) => {
  const card = event.target instanceof Element ? event.target.closest("li.card") : null;
  if (card) lastFocusedCardId = card.id;
});

function refocusCard() {
  // A swap replaced the column holding the focused card: find the same card (wherever it went) and focus it.
  if (lastFocusedCardId && (!document.activeElement || document.activeElement === document.body)) {
    focusCard(document.getElementById(lastFocusedCardId));
  }
}
// At once after the swap, in the same task (a key pressed in the settle delay would otherwise find no card),
// and again once settled (an out-of-band slot can land after the main swap).
// Each answer to a change on the ticket page swaps its header (title, status) out of band. While the edit box in
// it is open, the person's box stays: the answer to an earlier change ("]" then "e" at once) arriving after it
// opened replaced it, closed it and took the focus and what was typed with it. (htmx keeps an element its new
// content marks hx-preserve; Chromium moves it back with its focus.)
document.addEventListener("htmx:oobBeforeSwap", (event) => {
  if (!document.getElementById("edit-box")?.open) return;
  event.detail.fragment?.querySelector?.("#edit-box")?.setAttribute("hx-preserve", "true");
});
document.addEventListener("htmx:afterSwap", refocusCard);
document.addEventListener("htmx:afterSettle", refocusCard);

// The server sends this after the new card's column has settled (HX-Trigger-After-Settle), so the card exists.
document.addEventListener("ticketCreated", (event) => {
  const box = document.getElementById("mc-dialog");
  const card = document.getElementById(`card-${event.detail.identifier}`);
  // The dialog's close event (it fires later) puts focus back where it was: the new card is that place now.
  if (box?.open) { box.returnFocusTo = card?.querySelector("a") || box.returnFocusTo; box.close(); }
  if (card) { lastFocusedCardId = card.id; focusCard(card); }
});

// A form marked data-reset-on-success empties itself after htmx posts it successfully.
document.addEventListener("htmx:afterRequest", (event) => {
  const form = event.detail.elt;
  if (event.detail.successful && form instanceof HTMLFormElement && form.hasAttribute("data-reset-on-success")) {
    form.reset();
  }
});

// Something went wrong that the person should know: said in a live region, gone after a few seconds.
function showToast(message) {
  let toast = document.getElementById("toast");
  if (!toast) {
    toast = document.createElement("div");
    toast.id = "toast";
    toast.className = "toast";
    toast.setAttribute("role", "alert");
    document.body.append(toast);
  }
  toast.textContent = message.slice(0, 300);
  toast.hidden = false;
  clearTimeout(showToast.timer);
  showToast.timer = setTimeout(() => { toast.hidden = true; }, 6000);
}
window.mcToast = showToast;

// htmx does not swap error responses: say what went wrong in a live region instead of failing silently.
document.addEventListener("htmx:responseError", (event) => {
  const xhr = event.detail.xhr;
  let message = xhr.responseText || `Request failed (${xhr.status}).`;
  try { message = JSON.parse(message).detail || message; } catch (_) { /* plain text */ }
  showToast(message);
});

// After a boosted navigation, move focus to the new page's main region so screen readers announce it.
// On afterSwap, in the same task that puts the new page in: waiting for the settle left ~20-80 ms in which
// the new heading showed but focus sat on <body> (and a key pressed then went nowhere).
document.addEventListener("htmx:afterSwap", (event) => {
  if (event.detail.boosted && event.detail.requestConfig && event.detail.requestConfig.verb === "get") {
    const main = document.getElementById("main");
    if (main) main.focus({ preventScroll: true });
  }
});

/* ---------- load more: cards that moved above the cursor meanwhile go on top ---------- */

htmx.onLoad((root) => {
  // A card that moved down while the page was open comes again with a later page: the newer copy wins.
  if (root.matches?.("li.card") && root.closest("ol.cards")) {
    for (const twin of document.querySelectorAll(`li.card[id="${CSS.escape(root.id)}"]`)) {
      if (twin !== root) twin.remove();
    }
  }
  const templates = root.matches?.("template.moved-cards") ? [root] : Array.from(root.querySelectorAll?.("template.moved-cards") || []);
  for (const template of templates) {
    const list = document.getElementById(template.dataset.into);
    if (list) {
      for (const card of Array.from(template.content.children).reverse()) {
        document.getElementById(card.id)?.remove();
        list.prepend(card);
        htmx.process(card);
      }
    }
    template.remove();
  }
});

/* ---------- drag and drop (mouse and touch) with SortableJS ---------- */

// SortableJS is fetched the first time a board is shown (other pages never load it); the page names the
// file by its content hash, so the browser keeps it for good after that.
const scriptsLoading = new Map();

// A script the page names by its content hash, fetched once (the browser keeps it for good after that).
function loadScript(src) {
  if (!scriptsLoading.has(src)) {
    scriptsLoading.set(src, new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = src;
      script.onload = resolve;
      script.onerror = () => { scriptsLoading.delete(src); reject(); };
      document.head.append(script);
    }));
  }
  return scriptsLoading.get(src);
}

function withSortable(then) {
  if (typeof Sortable !== "undefined") { then(); return; }
  const src = document.body.dataset.sortableSrc;
  if (src) loadScript(src).then(then, () => {});
}

htmx.onLoad((root) => {
  if (!(root.matches?.("ol.cards, #board-columns") || root.querySelector?.("#board-columns ol.cards"))) return;
  withSortable(() => makeSortable(root));
});

function makeSortable(root) {
  const lists = root.matches?.("ol.cards") ? [root] : Array.from(root.querySelectorAll?.("#board-columns ol.cards, ol.cards[data-status]") || []);
  for (const list of lists) {
    if (list.sortable || !list.closest("#board-columns")) continue;
    list.sortable = Sortable.create(list, {
      group: "board",
      draggable: "li.card",
      filter: ".more",
      delay: 180,
      delayOnTouchOnly: true, // a short press starts a drag on phones; a swipe still scrolls
      animation: 120,
      ghostClass: "card-ghost",
      onStart() { dragging = true; },
      onEnd(event) {
        dragging = false;
        setTimeout(releaseRefresh, 0);
        const card = event.item;
        const target = event.to.dataset.status;
        if (event.from === event.to && event.oldIndex === event.newIndex) return;
        const above = card.previousElementSibling;
        const after = above && above.matches("li.card") ? cardId(above) : "";
        lastFocusedCardId = card.id;
        post(`/ticket/${cardId(card)}/move`, { status: target, after });
      },
    });
  }
}

/* ---------- phone: the nav menu closes on a tap outside it (and on Esc, above) ---------- */

document.addEventListener("click", (event) => {
  const menu = document.getElementById("navmenu");
  if (menu?.open && event.target instanceof Node && !menu.contains(event.target)) menu.open = false;
});

/* ---------- phone: the column tabs scroll the board sideways; the tab of the column in view is marked ---------- */

// A tab is a link to its column (#col-…), which works without JavaScript; followed as a link, though, the browser
// also scrolls the page to bring the column up, and the tabs with it go out of sight. Scroll only the board.
document.addEventListener("click", (event) => {
  const tab = event.target instanceof Element ? event.target.closest(".column-tabs a") : null;
  const board = document.getElementById("board-columns");
  const slot = tab && document.getElementById(tab.hash.replace(/^#col-/, "slot-"));
  if (!board || !slot) return;
  event.preventDefault();
  const behavior = matchMedia("(prefers-reduced-motion: reduce)").matches ? "auto" : "smooth";
  board.scrollTo({ left: slot.offsetLeft, top: 0, behavior });
  markColumnTab(slot.id);
});

function markColumnTab(slotId) {
  const status = slotId.replace(/^slot-/, "");
  document.querySelectorAll(".column-tabs a").forEach((tab) => {
    const current = tab.hash === `#col-${status}`;
    if (current && tab.getAttribute("aria-current") !== "true") tab.scrollIntoView({ block: "nearest", inline: "nearest" });
    tab.setAttribute("aria-current", String(current));
  });
}

// The column in view is the one whose left edge is nearest the board's (on a phone each is the board's width).
// The tabs show only on a phone: elsewhere there is nothing to mark.
function markColumnInView(board) {
  if (!document.querySelector(".column-tabs")?.offsetParent) return;
  let nearest = null;
  for (const slot of board.querySelectorAll(":scope > .slot")) {
    if (!nearest || Math.abs(slot.offsetLeft - board.scrollLeft) < Math.abs(nearest.offsetLeft - board.scrollLeft)) nearest = slot;
  }
  if (nearest) markColumnTab(nearest.id);
}

// Scroll events do not bubble: listen in the capture phase, so a board swapped in by a filter or a refresh counts.
document.addEventListener("scroll", (event) => {
  if (event.target instanceof Element && event.target.id === "board-columns") markColumnInView(event.target);
}, { capture: true, passive: true });

htmx.onLoad((root) => {
  const board = root.querySelector?.("#board-columns") || (root.id === "board-columns" ? root : null);
  if (board) markColumnInView(board);
});

/* ---------- a filter left empty is no filter ---------- */

// A search form's empty fields would leave /board?q=&assignee=&tag=&priority= in the URL pushed to history:
// send (and push) only the fields that say something. Without JavaScript the browser sends them all, which the
// server reads the same.
document.addEventListener("htmx:configRequest", (event) => {
  const detail = event.detail;
  if (detail.verb !== "get" || !(detail.elt instanceof Element) || !detail.elt.closest("form[role=search]")) return;
  const form = detail.formData;
  const kept = Array.from(form.entries()).filter(([, value]) => value !== "");
  for (const name of new Set(form.keys())) form.delete(name);
  for (const [name, value] of kept) form.append(name, value);
});

/* ---------- the live board refresh waits for the person ---------- */

// News from other people refreshes the columns (#board-refresh, hx-trigger="sse:ticket"). Swapping them
// while this person's own request is on its way (opening a card, a move), a drag or a dialog is open would
// pull the ground from under them: hold the refresh, and run it once they are done.
let ownRequests = 0;
let dragging = false;
let refreshHeld = false;

function isLiveRefresh(detail) {
  return detail?.elt?.id === "board-refresh";
}

document.addEventListener("htmx:beforeRequest", (event) => { if (!isLiveRefresh(event.detail)) ownRequests++; });
document.addEventListener("htmx:afterRequest", (event) => {
  if (isLiveRefresh(event.detail)) return;
  ownRequests = Math.max(0, ownRequests - 1);
  releaseRefresh();
});
document.addEventListener("htmx:confirm", (event) => {
  if (!isLiveRefresh(event.detail)) return;
  if (ownRequests || dragging || document.getElementById("mc-dialog")?.open) {
    event.preventDefault();
    refreshHeld = true;
  }
});
document.addEventListener("close", () => releaseRefresh(), true);

function releaseRefresh() {
  if (!refreshHeld || ownRequests || dragging || document.getElementById("mc-dialog")?.open) return;
  refreshHeld = false;
  const refresher = document.getElementById("board-refresh");
  if (refresher) setTimeout(() => htmx.trigger(refresher, "sse:ticket"), 50);
}

/* ---------- times read relative ("5 min ago"), the exact time in the reader's zone on hover ---------- */

const RELATIVE = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
const EXACT = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });
const DAY_AND_MONTH = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short", year: "numeric" });

function relative(date, now) {
  const seconds = Math.round((date - now) / 1000);
  const past = Math.abs(seconds);
  if (past < 45) return seconds <= 0 ? "just now" : "in a moment";
  if (past < 3600) return RELATIVE.format(Math.round(seconds / 60), "minute");
  if (past < 86400) return RELATIVE.format(Math.round(seconds / 3600), "hour");
  if (past < 86400 * 30) return RELATIVE.format(Math.round(seconds / 86400), "day");
  return DAY_AND_MONTH.format(date);
}

function relativeTimes(root) {
  const now = Date.now();
  root.querySelectorAll("time[datetime]").forEach((el) => {
    const date = new Date(el.getAttribute("datetime"));
    if (Number.isNaN(date.getTime())) return;
    el.textContent = relative(date, now);
    el.title = EXACT.format(date);
  });
}

htmx.onLoad((root) => relativeTimes(root instanceof Element ? root : document.body));
setInterval(() => { relativeTimes(document.body); markStalled(); }, 30000);

/* ---------- the run view: follow the newest item, stalled runs, results whose call is not shown ---------- */

let following = true;
let lastScrollY = window.scrollY;

function followButton() { return document.getElementById("follow-runs"); }

function setFollowing(on) {
  following = on;
  const button = followButton();
  if (button) button.setAttribute("aria-pressed", String(on));
}

function showNewest() {
  const items = document.querySelectorAll("#timeline .run-item");
  const last = items[items.length - 1];
  if (last) last.scrollIntoView({ block: "end", behavior: "instant" });
}

// Scrolling up (by wheel, touch, keys or the scroll bar) means the reader is reading: stop following.
window.addEventListener("scroll", () => {
  if (window.scrollY < lastScrollY - 4 && followButton()) setFollowing(false);
  lastScrollY = window.scrollY;
}, { passive: true });

document.addEventListener("click", (event) => {
  const button = event.target instanceof Element ? event.target.closest("#follow-runs") : null;
  if (!button) return;
  setFollowing(button.getAttribute("aria-pressed") !== "true");
  if (following) showNewest();
});

function followNewest() {
  if (following && followButton()) { showNewest(); lastScrollY = window.scrollY; }
}
document.addEventListener("htmx:sseMessage", followNewest);
document.addEventListener("mc:frame", followNewest);

// The conversation's frames come over the ticket's SSE stream and, while a session's socket is open, over
// that too (static/session.js): each is applied once, by its seq (the timeline keeps the last one shown).
document.addEventListener("htmx:sseBeforeMessage", (event) => {
  const message = event.detail;
  const timeline = document.getElementById("timeline");
  const seq = Number(message && message.lastEventId);
  if (!timeline || message.type !== "ticket_event" || !seq) return;
  if (seq <= Number(timeline.dataset.lastSeq || 0)) { event.preventDefault(); return; }
  timeline.dataset.lastSeq = String(seq);
});

// A ticket page whose agent sessions are on talks to them over a socket: static/session.js, fetched then.
htmx.onLoad(() => {
  const section = document.querySelector("#conversation[data-session-socket]");
  if (section && !section.mcSession) loadScript(section.dataset.sessionSrc).then(() => window.mcSession.attach(section), () => {});
});

// A result whose call is not on the page (it came before the events shown): add it to the newest run.
document.addEventListener("htmx:oobErrorNoTarget", (event) => {
  const element = event.detail && event.detail.content;
  const runs = document.querySelectorAll("#timeline .run-items");
  if (!(element instanceof Element) || !element.matches("li.run-item") || !runs.length) return;
  runs[runs.length - 1].append(element);
  htmx.process(element);
});

// A running run with no event for longer than the server's stall limit reads "Stalled" until one comes.
function markStalled() {
  const holder = document.getElementById("timeline");
  const limit = holder ? Number(holder.dataset.stallS || 0) * 1000 : 0;
  if (!limit) return;
  holder.querySelectorAll(".run-header[data-state='running']").forEach((header) => {
    const last = new Date(header.dataset.last).getTime();
    if (Date.now() - last <= limit) return;
    header.dataset.state = "stalled";
    header.classList.replace("state-running", "state-stalled");
    const label = header.querySelector(".run-state");
    if (label) { label.textContent = "Stalled"; label.classList.replace("state-running", "state-stalled"); }
  });
}

// Pieces that only work with JavaScript are hidden without it; the page says it has it (CSS hides the
// properties' Save, which each field's own save makes unneeded).
document.documentElement.classList.add("js");
htmx.onLoad((root) => {
  (root instanceof Element ? root : document).querySelectorAll("[data-needs-js]").forEach((el) => { el.hidden = false; });
});

htmx.onLoad(() => {
  const button = followButton();
  if (button) { button.hidden = false; button.setAttribute("aria-pressed", String(following)); }
});

/* ---------- Activity: a run that moved on comes again on top; drop its older copy below ---------- */
document.body.addEventListener("htmx:afterSwap", (event) => {
  const feed = document.getElementById("activity-feed");
  if (!feed || !feed.contains(event.detail.target) && event.detail.target !== feed) return;
  const seen = new Set();
  feed.querySelectorAll(":scope > li.feed-item[id]").forEach((item) => {
    if (seen.has(item.id)) item.remove();
    else seen.add(item.id);
  });
});
