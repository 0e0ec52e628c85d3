"""A small LRU for rendered fragments. Keys carry every input of the render, so an entry is never stale:
a change makes a new key (see board_state's versions), and old keys simply age out."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, TypeVar

from markupsafe import Markup

if TYPE_CHECKING:
    from app.columns import MorePage

V = TypeVar("V")


class FragmentCache(Generic[V]):
    """Least-recently-used values by key, at most `size` of them."""

    def __init__(self, size: int = 512) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, V] = OrderedDict()

    def get(self, key: Hashable) -> V | None:
        """The value for `key`, or None."""
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: Hashable, value: V) -> V:
        """Store `value` under `key`; return it."""
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        """Forget everything."""
        self._items.clear()


class Recent(Generic[V]):
    """One value recomputed at most every `seconds` (for data whose freshness is bounded by time anyway)."""

    def __init__(self, seconds: float, load: Callable[[], Awaitable[V]]) -> None:
        self.seconds = seconds
        self._load = load
        self._value: V | None = None
        self._at = float("-inf")

    async def get(self) -> V:
        """The value, reloaded when older than `seconds`."""
        now = time.monotonic()
        if self._value is None or now - self._at >= self.seconds:
            self._value = await self._load()
            self._at = now
        return self._value

    def expire(self) -> None:
        """Reload at the next `get` (the data is known to have changed)."""
        self._at = float("-inf")


@dataclass
class BoardCaches:
    """The board's rendered pieces and the reads behind them, one typed cache each (keys: see app/columns.py)."""

    columns: FragmentCache[Markup] = field(default_factory=lambda: FragmentCache(512))
    counts: FragmentCache[dict[str, int]] = field(default_factory=lambda: FragmentCache(128))
    choices: FragmentCache[tuple[list[str], list[str]]] = field(default_factory=lambda: FragmentCache(16))
    more_pages: FragmentCache[MorePage] = field(default_factory=lambda: FragmentCache(256))
    more_html: FragmentCache[Markup] = field(default_factory=lambda: FragmentCache(256))
