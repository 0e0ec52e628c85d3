"""Life Manager for the demo: a WhatsApp scan and an e-mail scan of the last two days, posted through the store
function the scans API uses, then a few items done, snoozed, dismissed and one made a ticket, as a person would."""

from __future__ import annotations

from datetime import datetime, timedelta

from app.clock import stamp
from app.db import Database
from app.store import life_manager as store

# (sender, subject, snippet, minutes ago, urgency, suggested action, due in days or None)
Row = tuple[str, str, str, int, store.Urgency, str, int | None]
WHATSAPP: list[Row] = [
    ("Mum", "", "Can you call me about Sunday lunch? Auntie Rosa is coming after all and I need to know numbers",
     35, "high", "Call Mum back and confirm numbers for Sunday", 0),
    ("Nadia (work)", "", "Heads up: the client moved the demo to 10:00 tomorrow, can you send the deck tonight?",
     95, "urgent", "Send the demo deck to Nadia tonight", 1),
    ("Mr Okafor (landlord)", "", "The boiler engineer comes Tuesday between 9 and 11. Can someone be in to let him in?",
     300, "high", "Confirm someone is home Tuesday 9-11", 3),
    ("Sam", "", "Are we still on for climbing Thursday? I can book the 7pm slot", 420, "normal",
     "Reply yes or no to Sam about Thursday", 2),
    ("Dr Reyes Dental", "", "Reminder: check-up on Friday at 08:40. Reply C to confirm or R to rearrange",
     760, "normal", "Reply C to confirm the check-up", 4),
    ("Family group", "", "Photos from the weekend are in the shared album", 1500, "low", "", None),
    ("Priya", "", "Happy birthday for tomorrow!! Drinks on Saturday?", 2300, "low", "Reply to Priya about Saturday",
     None),
]  # fmt: skip
EMAIL: list[Row] = [
    ("Monzo", "Was this you? New sign-in on Chrome, Windows",
     "We noticed a sign-in to your account from a new device in Rotterdam. If this wasn't you, freeze your card now.",
     20, "urgent", "Check the sign-in and freeze the card if it was not you", 0),
    ("HMRC", "Your Self Assessment tax return is due",
     "You need to send your tax return and pay any tax you owe by 31 January. Sign in to your online account.",
     200, "high", "File the Self Assessment return", 40),
    ("Oakfield Primary School", "Year 4 trip to the Science Museum: consent form",
     "Please return the signed consent form and the £12 contribution by Thursday.", 520, "high",
     "Sign the consent form and pay £12 on ParentPay", 2),
    ("Direct Line", "Your car insurance renews on the 15th",
     "Your renewal price is £612.40, up from £498.10 last year. You can change your cover or cancel before renewal.",
     900, "high", "Compare quotes before the policy renews", 12),
    ("Octopus Energy", "Your November bill is ready",
     "Your bill for 1-30 November is £86.12 and will be collected by Direct Debit on the 8th.", 1300, "normal",
     "", None),
    ("PyCon UK", "Call for proposals closes Friday", "Last call: the CFP for PyCon UK closes this Friday at midnight.",
     1700, "normal", "Submit the SQLite talk proposal", 3),
    ("GitHub", "[luci/mission-control] Dependabot alert: jinja2",
     "A moderate severity vulnerability was found in jinja2 < 3.1.5 in requirements.txt.", 2000, "normal",
     "Bump jinja2 and run the tests", 7),
    ("Amazon", "Your parcel has been delivered", "Your package was left in a safe place: front porch.", 2600, "low",
     "", None),
]  # fmt: skip


def scan_of(source: str, rows: list[Row], now: datetime) -> store.Scan:
    """One source's scan, its items received the given minutes before `now`."""
    items = [
        store.ScanItem(
            id=f"{source[:2]}-{n:04d}", sender=sender, subject=subject, snippet=snippet,
            received_at=stamp(now - timedelta(minutes=ago)), urgency=urgency, suggested_action=action,
            due=None if due is None else (now.date() + timedelta(days=due)).isoformat(),
        )
        for n, (sender, subject, snippet, ago, urgency, action, due) in enumerate(rows, start=1)
    ]  # fmt: skip
    return store.Scan(source=source, scanned_at=stamp(now - timedelta(minutes=4)), items=items)


async def fill_life(db: Database, prefix: str, now: datetime) -> int:
    """Both scans, and what a person did with a few items since; how many items there are."""
    scans = [scan_of("whatsapp", WHATSAPP, now), scan_of("email", EMAIL, now)]
    stored = [await store.record_scan(db, scan, now) for scan in scans]
    items = {i.sender: i for i in await store.list_items(db, store.ItemFilter(show="all"), 100, now.date())}
    await store.set_state(db, items["Amazon"].id, "dismissed")
    await store.set_state(db, items["Octopus Energy"].id, "done")
    await store.set_state(db, items["Family group"].id, "done")
    await store.set_state(db, items["HMRC"].id, "snoozed", (now.date() + timedelta(days=7)).isoformat())
    await store.make_ticket(db, prefix, items["GitHub"], "/life-manager?source=email&show=all")
    return sum(s.items for s in stored)
