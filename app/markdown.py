"""Untrusted markdown (agent and user text) to safe HTML: markdown-it-py with raw HTML off, then nh3.

markdown-it-py is pure Python and super-linear on some input: 100 KB of "[" took 2 s, and even ordinary
text costs milliseconds per kilobyte here. Rendered on the event loop, four such comments held every other
request (a /healthz waited 6 s). So a render never runs on the loop: `prepare()` sends the texts a page is
about to show to a worker process, waits for them at most MC_MARKDOWN_BUDGET_S, and keeps each result in an
in-process cache keyed by the text. The template filter only reads that cache; a text whose render has not
come back in time (or is over MAX_CHARS) is shown as plain, escaped text, and its render, still going in the
worker, is there for the next view.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import logging
import multiprocessing
import os
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup, escape

log = logging.getLogger("mc.markdown")

MAX_CHARS = 100_000  # longer texts are shown as plain text (comments and descriptions stop here anyway)
MAX_PENDING = 256  # renders queued for the worker at once; past it, texts show plain until the queue drains
CACHE_BYTES = 32 * 1024 * 1024  # rendered HTML (and the texts that key it) kept per process

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")


def _image_as_link(renderer: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
    # An image in agent or user text would load from anywhere (a tracking pixel) and the CSP blocks it
    # anyway: show it as a link to the image instead, named by its alt text.
    token = tokens[idx]
    src = escape(token.attrGet("src") or "")
    alt = escape(token.content or token.attrGet("src") or "image")
    return f'<a href="{src}">{alt}</a>'


_md.add_render_rule("image", _image_as_link)

# An allow-list, not a block-list: anything not named here (hx-*, on*, style, iframes…) is dropped.
_TAGS = {
    "a",
    "p",
    "br",
    "hr",
    "em",
    "strong",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "del",
    "img",
}
_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
    "th": {"align"},
    "td": {"align"},
    "code": {"class"},
}


def to_html(text: str) -> str:
    """Markdown to sanitised HTML, here and now (slow on some input: the worker process calls this)."""
    return nh3.clean(
        _md.render(text),
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def plain(text: str) -> Markup:
    """A text shown as it is, escaped (line breaks kept by the `md-plain` style)."""
    return Markup('<div class="md-plain">{}</div>').format(text)


def exit_with_parent(parent: int) -> None:
    """In a worker: exit as soon as the server process is gone, however it went (kill -9 included). A pool
    worker holds both ends of its own task pipe, so it would otherwise wait for work forever, an orphan
    holding the server's log pipes open."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, name="mc-exit-with-parent", daemon=True).start()


class _Rendered:
    """Rendered HTML by source text, least recently used first out, bounded by size. Written from the
    worker pool's callback thread and read from the event loop, hence the lock."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, Markup] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, text: str) -> Markup | None:
        with self._lock:
            html = self._items.get(text)
            if html is not None:
                self._items.move_to_end(text)
            return html

    def put(self, text: str, html: Markup) -> None:
        size = len(text) + len(html)
        if size > self.max_bytes:
            return
        with self._lock:
            if text in self._items:
                return
            self._items[text] = html
            self._bytes += size
            while self._bytes > self.max_bytes:
                old_text, old_html = self._items.popitem(last=False)
                self._bytes -= len(old_text) + len(old_html)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0


class Renderer:
    """The worker process, the cache, and the renders in flight."""

    def __init__(self) -> None:
        self.cache = _Rendered(CACHE_BYTES)
        self.budget_s = 2.0
        self.workers = 1
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None
        self._pending: dict[str, concurrent.futures.Future[str]] = {}
        self._lock = threading.Lock()

    def configure(self, workers: int, budget_s: float) -> None:
        """Settings from MC_MARKDOWN_WORKERS and MC_MARKDOWN_BUDGET_S."""
        self.workers, self.budget_s = workers, budget_s

    def start(self) -> None:
        """Start the worker process now (a spawn takes a moment) rather than at the first page."""
        self._submit("warm-up")

    def stop(self) -> None:
        """Stop the workers without waiting for a render in progress."""
        with self._lock:
            pool, self._pool = self._pool, None
            self._pending.clear()
        if pool is not None:
            processes = list((getattr(pool, "_processes", None) or {}).values())  # 3.14 has terminate_workers()
            pool.shutdown(wait=False, cancel_futures=True)
            for process in processes:
                process.terminate()

    def html(self, text: str) -> Markup:
        """The text's rendered HTML if it is ready, else the text as plain escaped text."""
        if not text:
            return Markup("")
        return self.cache.get(text) or plain(text)

    async def prepare(self, texts: Iterable[str], budget_s: float | None = None) -> None:
        """Render the texts that are not cached yet, off the event loop; wait for them up to the budget (the
        setting's, or `budget_s`)."""
        waiting: list[asyncio.Future[str]] = []
        for text in set(texts):
            if text and len(text) <= MAX_CHARS and self.cache.get(text) is None:
                submitted = self._submit(text)
                if submitted is not None:
                    waiting.append(asyncio.wrap_future(submitted))
        if waiting:
            budget = self.budget_s if budget_s is None else budget_s
            done, late = await asyncio.wait(waiting, timeout=budget)
            for waited in (*done, *late):  # failures are logged once, by _finished
                waited.add_done_callback(lambda f: f.cancelled() or f.exception())
            if late:
                log.info("%d markdown renders took longer than %.1f s: shown as plain text", len(late), budget)

    def _submit(self, text: str) -> concurrent.futures.Future[str] | None:
        with self._lock:
            future = self._pending.get(text)
            if future is not None:
                return future
            if len(self._pending) >= MAX_PENDING:
                return None
            try:
                future = self._worker_pool().submit(to_html, text)
            except concurrent.futures.BrokenExecutor:  # a worker died (killed, out of memory): start afresh
                self._pool = None
                future = self._worker_pool().submit(to_html, text)
            self._pending[text] = future
        future.add_done_callback(lambda done: self._finished(text, done))
        return future

    def _finished(self, text: str, future: concurrent.futures.Future[str]) -> None:
        with self._lock:
            if self._pending.get(text) is future:
                del self._pending[text]
        if future.cancelled():
            return
        error = future.exception()
        if error is None:
            self.cache.put(text, Markup(future.result()))  # noqa: S704 - nh3 has sanitised it
        elif not isinstance(error, concurrent.futures.BrokenExecutor):
            log.error("markdown render failed", exc_info=error)

    def _worker_pool(self) -> concurrent.futures.ProcessPoolExecutor:
        if self._pool is None:
            # spawn, not fork: the server has threads (SQLite's, the pool's own) that a fork would copy mid-lock.
            context = multiprocessing.get_context("spawn")
            self._pool = concurrent.futures.ProcessPoolExecutor(
                self.workers, mp_context=context, initializer=exit_with_parent, initargs=(os.getpid(),)
            )
            atexit.register(self.stop)  # before the interpreter tears down the modules the pool's threads use
        return self._pool


renderer = Renderer()


_HEADING_TAG = re.compile(r"<(/?)h([1-5])\b")


def render_markdown(text: str, below: int = 0) -> Markup:
    """The Jinja filter: safe HTML for `text` if `prepare()` rendered it, else the plain text, escaped.

    `below`: the heading level the text sits under; its headings start one level lower (a SKILL.md's `# Title`
    under the page's h1 becomes an h2). The HTML is the sanitizer's output, so every `<h` in it is a tag."""
    html = renderer.html(text)
    if below:
        lower = _HEADING_TAG.sub(lambda m: f"<{m[1]}h{min(int(m[2]) + below, 6)}", html)
        html = Markup(lower)  # noqa: S704 - the sanitizer's output with only heading tag names changed
    return html


def all_ready(texts: Iterable[str]) -> bool:
    """Whether every one of `texts` is rendered (so what shows it can be kept)."""
    return all(not text or len(text) > MAX_CHARS or renderer.cache.get(text) is not None for text in texts)


async def prepare(texts: Iterable[str], budget_s: float | None = None) -> None:
    """Render `texts` off the event loop before a page that shows them (see module docstring); wait at most
    `budget_s` (default: MC_MARKDOWN_BUDGET_S) before showing the slow ones as plain text."""
    await renderer.prepare(texts, budget_s)
