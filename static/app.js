// Mission Control's few lines of script: everything works without them; they only make it smoother.
"use strict";

// A form marked data-reset-on-success empties itself after htmx posts it successfully.
document.addEventListener("htmx:afterRequest", (event) => {
  const form = event.detail.elt;
  if (event.detail.successful && form instanceof HTMLFormElement && form.hasAttribute("data-reset-on-success")) {
    form.reset();
  }
});

// htmx does not swap error responses: say what went wrong in a live region instead of failing silently.
document.addEventListener("htmx:responseError", (event) => {
  const xhr = event.detail.xhr;
  let message = xhr.responseText || `Request failed (${xhr.status}).`;
  try { message = JSON.parse(message).detail || message; } catch (_) { /* plain text */ }
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
  setTimeout(() => { toast.hidden = true; }, 6000);
});

// After a boosted navigation, move focus to the new page's main region so screen readers announce it.
document.addEventListener("htmx:afterSettle", (event) => {
  if (event.detail.boosted && event.detail.requestConfig && event.detail.requestConfig.verb === "get") {
    const main = document.getElementById("main");
    if (main) main.focus({ preventScroll: true });
  }
});
