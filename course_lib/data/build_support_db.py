"""Build ``support.sqlite``: Kitewing's users and support tickets, seeded and deterministic.

The concurrent-tools lesson (notebook 08) needs tools that read real data: "what is the status of
ticket #10427?" and "who is this user, on which plan?" are SQL queries against this database, not
canned answers. Everything in it is made up but consistent with the knowledge base:

- ``users``: 200 people in fictional workspaces (e-mail domains under ``.example``, which is
  reserved and never routable), each with the workspace's plan, a role from the knowledge base
  (Owner, Admin, Member, Guest) and a locale; Chinese-speaking users have Chinese names.
- ``tickets``: 1,000 support tickets from users on paid plans (Free workspaces get help in the
  community forum, as the knowledge base says). Each is about a knowledge-base article, worded as
  one of its paraphrases (in Chinese for ``zh-CN`` users where the article has one), with a status
  (open, pending, on_hold, solved, closed) that fits its age at ``AS_OF``.
- ``meta``: the seed, the "as of" date and the row counts, so a reader can tell how it was made.

The shipped file is committed course data; ``tests/test_tools_support_db.py`` rebuilds it and
compares the rows, so the file and this script cannot drift apart. Rows are compared rather than
bytes because SQLite writes its own library version into the file header. Rebuild with::

    .venv/bin/python -m course_lib.data.build_support_db            # rewrite the shipped file
    .venv/bin/python -m course_lib.data.build_support_db --check    # exit 1 if it is stale

Only ``random.Random(SEED)`` decides anything, and every choice is drawn in a fixed order from
sorted or literal sequences, so the same script builds the same rows on every machine.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import sys
import tempfile
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from course_lib.datasets import KnowledgeBase, load_knowledge_base

__all__ = [
    "AS_OF",
    "DB_PATH",
    "N_TICKETS",
    "N_USERS",
    "SCHEMA",
    "SEED",
    "build",
    "dump_rows",
]

SEED = 20260301
AS_OF = date(2026, 3, 1)  # the day the data is a snapshot of (tickets' ages are measured to it)
N_USERS = 200
N_TICKETS = 1000
N_WORKSPACES = 36
FIRST_TICKET_ID = 10001
DB_PATH = Path(__file__).with_name("support.sqlite")

PLANS = ("Free", "Team", "Business", "Enterprise")
PLAN_WEIGHTS = (30, 38, 22, 10)
PAID_PLANS = ("Team", "Business", "Enterprise")
ROLES = ("Owner", "Admin", "Member", "Guest")
STATUSES = ("open", "pending", "on_hold", "solved", "closed")
PRIORITIES = ("low", "normal", "high", "urgent")
LOCALES = ("en-US", "en-GB", "zh-CN", "de-DE", "fr-FR", "es-ES", "ja-JP", "pt-BR")
LOCALE_WEIGHTS = (34, 10, 22, 9, 7, 7, 6, 5)

SCHEMA = """
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE users (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    email      TEXT NOT NULL UNIQUE,
    workspace  TEXT NOT NULL,
    plan       TEXT NOT NULL CHECK (plan IN ('Free', 'Team', 'Business', 'Enterprise')),
    role       TEXT NOT NULL CHECK (role IN ('Owner', 'Admin', 'Member', 'Guest')),
    locale     TEXT NOT NULL,
    signed_up  TEXT NOT NULL,             -- ISO date
    two_factor INTEGER NOT NULL CHECK (two_factor IN (0, 1))
);
CREATE TABLE tickets (
    id         INTEGER PRIMARY KEY,       -- the number users quote: "ticket #10427"
    user_id    INTEGER NOT NULL REFERENCES users (id),
    subject    TEXT NOT NULL,
    category   TEXT NOT NULL,
    kb_article TEXT NOT NULL,             -- the knowledge-base entry the ticket is about
    status     TEXT NOT NULL
               CHECK (status IN ('open', 'pending', 'on_hold', 'solved', 'closed')),
    priority   TEXT NOT NULL CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    assignee   TEXT,                      -- NULL while nobody has picked it up
    created_at TEXT NOT NULL,             -- ISO 8601, UTC
    updated_at TEXT NOT NULL
);
CREATE INDEX tickets_by_user ON tickets (user_id);
"""

_WORKSPACE_STEMS = (
    "Amber", "Birch", "Blue", "Cedar", "Cinder", "Copper", "Delta", "Ember", "Fern", "Granite",
    "Harbor", "Indigo", "Juniper", "Lumen", "Maple", "Meadow", "Nimbus", "North", "Oak", "Onyx",
    "Orchid", "Pebble", "Pine", "Quartz", "Raven", "Ridge", "Saffron", "Silver", "Summit", "Tidal",
)
_WORKSPACE_ENDINGS = ("field", "forge", "light", "point", "stone", "wave", "works", "yard")
_WORKSPACE_TRADES = (
    "Analytics", "Architects", "Bakery", "Clinic", "Design", "Foods", "Games", "Health",
    "Learning", "Legal", "Logistics", "Media", "Robotics", "Studio", "Travel", "Ventures",
)
# (display given name, ASCII given name) and family names, by locale. Names are common ones,
# combined at random: no real person is meant.
_GIVEN = {
    "en": ("Alex", "Amelia", "Ben", "Chloe", "Daniel", "Emma", "Grace", "Harry", "Isla", "Jack",
           "James", "Liam", "Lucy", "Mia", "Noah", "Olivia", "Oscar", "Priya", "Ryan", "Sofia"),
    "zh": (("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"),
           ("磊", "lei"), ("洋", "yang"), ("婷", "ting"), ("浩", "hao"), ("欣怡", "xinyi"),
           ("子涵", "zihan"), ("宇轩", "yuxuan"), ("梓萱", "zixuan"), ("俊杰", "junjie")),
    "de": ("Anna", "Felix", "Jonas", "Lena", "Lukas", "Marie", "Paul", "Sophie"),
    "fr": ("Camille", "Chloé", "Hugo", "Julien", "Léa", "Louis", "Manon", "Théo"),
    "es": ("Alejandro", "Carmen", "Diego", "Elena", "Javier", "Lucía", "Pablo", "Sara"),
    "ja": ("Haruto", "Hina", "Kenji", "Mei", "Ren", "Sakura", "Sota", "Yui"),
    "pt": ("Ana", "Bruno", "Camila", "Gabriel", "Julia", "Lucas", "Mariana", "Rafael"),
}
_FAMILY = {
    "en": ("Brown", "Clarke", "Davies", "Evans", "Green", "Hughes", "Johnson", "Khan", "Miller",
           "Patel", "Roberts", "Smith", "Taylor", "Walker", "Wilson", "Wright"),
    "zh": (("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"),
           ("杨", "yang"), ("黄", "huang"), ("赵", "zhao"), ("吴", "wu"), ("周", "zhou")),
    "de": ("Becker", "Fischer", "Hoffmann", "Koch", "Meyer", "Müller", "Schmidt", "Wagner"),
    "fr": ("Bernard", "Dubois", "Durand", "Lefèvre", "Martin", "Moreau", "Petit", "Robert"),
    "es": ("Fernández", "García", "González", "López", "Martínez", "Pérez", "Rodríguez",
           "Sánchez"),
    "ja": ("Ito", "Kato", "Kobayashi", "Nakamura", "Sato", "Suzuki", "Takahashi", "Tanaka"),
    "pt": ("Almeida", "Costa", "Ferreira", "Lima", "Oliveira", "Pereira", "Santos", "Souza"),
}
_SUPPORT_AGENTS = ("Aisha", "Bo", "Carlos", "Dana", "Elif", "Farid", "Hana", "Jonas")
# Topics people write in about most; realtime entries ("is my ticket solved?") are questions
# about tickets, not reasons to open one, so they are left out.
_CATEGORY_WEIGHTS = {
    "troubleshooting": 22, "billing": 16, "account": 14, "integrations": 12, "api": 11,
    "permissions": 10, "security": 6, "data": 6, "self_hosting": 3,
}


@dataclass(frozen=True)
class _Workspace:
    name: str
    domain: str
    plan: str


def _ascii(text: str) -> str:
    """E-mail-safe lower-case ASCII: accents dropped ("Lefèvre" -> "lefevre")."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if c.isascii() and c.isalnum()).lower()


def _has_cjk(text: str) -> bool:
    return any("\u4e00" <= char <= "\u9fff" for char in text)


def _workspaces(rng: random.Random) -> list[_Workspace]:
    workspaces: list[_Workspace] = []
    used: set[str] = set()
    while len(workspaces) < N_WORKSPACES:
        stem, ending = rng.choice(_WORKSPACE_STEMS), rng.choice(_WORKSPACE_ENDINGS)
        brand = f"{stem}{ending}"
        if brand in used:
            continue
        used.add(brand)
        name = f"{brand} {rng.choice(_WORKSPACE_TRADES)}"
        plan = rng.choices(PLANS, weights=PLAN_WEIGHTS)[0]
        workspaces.append(_Workspace(name=name, domain=f"{brand.lower()}.example", plan=plan))
    return workspaces


def _person(rng: random.Random, locale: str) -> tuple[str, str]:
    """(display name, ascii e-mail local part) for a user of ``locale``."""
    language = locale.split("-")[0]
    given, family = rng.choice(_GIVEN[language]), rng.choice(_FAMILY[language])
    if language == "zh":
        (given_zh, given_ascii), (family_zh, family_ascii) = given, family
        return f"{family_zh}{given_zh}", f"{given_ascii}.{family_ascii}"
    return f"{given} {family}", f"{_ascii(given)}.{_ascii(family)}"


def _user_rows(rng: random.Random, workspaces: Sequence[_Workspace]) -> list[tuple]:
    # Workspace sizes follow a long tail: a few big customers, many small teams.
    sizes = [1.0 / (rank + 1) ** 0.8 for rank in range(len(workspaces))]
    members: dict[int, int] = {}
    rows: list[tuple] = []
    emails: set[str] = set()
    for user_id in range(1, N_USERS + 1):
        # Every workspace gets its Owner first; after that users land by workspace size.
        if user_id <= len(workspaces):
            index = user_id - 1
        else:
            index = rng.choices(range(len(workspaces)), weights=sizes)[0]
        workspace = workspaces[index]
        role = "Owner" if index not in members else rng.choices(ROLES[1:], weights=(12, 73, 15))[0]
        members[index] = members.get(index, 0) + 1
        locale = rng.choices(LOCALES, weights=LOCALE_WEIGHTS)[0]
        name, local_part = _person(rng, locale)
        email = f"{local_part}@{workspace.domain}"
        suffix = 2
        while email in emails:
            email = f"{local_part}{suffix}@{workspace.domain}"
            suffix += 1
        emails.add(email)
        signed_up = AS_OF - timedelta(days=rng.randint(20, 900))
        two_factor = int(rng.random() < (0.8 if workspace.plan in ("Business", "Enterprise")
                                         else 0.35))
        rows.append((user_id, name, email, workspace.name, workspace.plan, role, locale,
                     signed_up.isoformat(), two_factor))
    return rows


def _status(rng: random.Random, age_days: float) -> str:
    """A status that fits the ticket's age: new tickets are open, old ones solved or closed."""
    if age_days < 1:
        weights = (70, 10, 10, 10, 0)
    elif age_days < 7:
        weights = (20, 30, 15, 35, 0)
    elif age_days < 30:
        weights = (4, 12, 8, 56, 20)
    else:
        weights = (1, 2, 2, 15, 80)
    return rng.choices(STATUSES, weights=weights)[0]


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _ticket_rows(rng: random.Random, users: Sequence[tuple], kb: KnowledgeBase) -> list[tuple]:
    paying = [row for row in users if row[4] in PAID_PLANS and row[5] != "Guest"]
    # Some users write in far more than others (Zipf-like activity), whoever they are.
    rng.shuffle(paying)
    activity = [1.0 / (rank + 1) ** 0.5 for rank in range(len(paying))]
    topics = {category: [e for e in kb.in_category(category) if not e.is_realtime]
              for category in _CATEGORY_WEIGHTS}
    categories = list(_CATEGORY_WEIGHTS)
    category_weights = list(_CATEGORY_WEIGHTS.values())
    snapshot = datetime.combine(AS_OF, time(0, 0), tzinfo=UTC)
    rows: list[tuple] = []
    for offset in range(N_TICKETS):
        user = rng.choices(paying, weights=activity)[0]
        user_id, signed_up, locale = user[0], date.fromisoformat(user[7]), user[6]
        entry = rng.choice(topics[rng.choices(categories, weights=category_weights)[0]])
        phrasings = [q for q in entry.all_questions if _has_cjk(q) == (locale == "zh-CN")]
        subject = rng.choice(phrasings or list(entry.all_questions))
        # Ages skew recent: most tickets are from the last few weeks.
        max_age = min(365.0, (AS_OF - signed_up).days)
        age_days = min(max_age, rng.expovariate(1 / 45))
        created = snapshot - timedelta(minutes=round(age_days * 24 * 60) + 1)
        status = _status(rng, age_days)
        waited = (snapshot - created).total_seconds() / 60
        updated = created + timedelta(minutes=round(waited * rng.uniform(0.05, 0.95)))
        urgent_share = 12 if entry.category in ("troubleshooting", "security") else 4
        priority = rng.choices(PRIORITIES, weights=(25, 55, 18, urgent_share))[0]
        assignee = None if status == "open" and rng.random() < 0.6 else rng.choice(
            _SUPPORT_AGENTS)
        rows.append((FIRST_TICKET_ID + offset, user_id, subject, entry.category, entry.id,
                     status, priority, assignee, _iso(created), _iso(updated)))
    return rows


def _rows() -> tuple[list[tuple], list[tuple]]:
    rng = random.Random(SEED)
    kb = load_knowledge_base()
    users = _user_rows(rng, _workspaces(rng))
    return users, _ticket_rows(rng, users, kb)


def build(path: str | os.PathLike[str] = DB_PATH) -> Path:
    """Write the database to ``path`` (atomically: a reader never sees half a file)."""
    target = Path(path)
    users, tickets = _rows()
    meta = [("seed", str(SEED)), ("as_of", AS_OF.isoformat()), ("users", str(len(users))),
            ("tickets", str(len(tickets))),
            ("note", "fictional data for the LLM Cost & Latency Lab; built by "
                     "course_lib/data/build_support_db.py")]
    handle, temporary = tempfile.mkstemp(prefix=".support-", suffix=".sqlite",
                                         dir=target.parent)
    os.close(handle)
    try:
        os.chmod(temporary, 0o644)  # mkstemp makes it private; course data is world-readable
        with sqlite3.connect(temporary) as connection:
            connection.executescript(SCHEMA)
            connection.executemany("INSERT INTO meta VALUES (?, ?)", meta)
            connection.executemany("INSERT INTO users VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", users)
            connection.executemany(
                "INSERT INTO tickets VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", tickets)
        connection.close()  # the context manager commits but does not close
        with sqlite3.connect(temporary) as connection:
            connection.execute("VACUUM")  # compact, so the committed file is small
        connection.close()
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def dump_rows(path: str | os.PathLike[str]) -> Iterator[str]:
    """Every schema statement and row of the database at ``path`` as SQL text, in a fixed order.

    Two databases with the same dump hold the same data, whatever SQLite version wrote them.
    """
    uri = Path(path).resolve().as_uri() + "?mode=ro"
    connection = sqlite3.connect(uri, uri=True)
    try:
        yield from connection.iterdump()
    finally:
        connection.close()


def _is_current(path: Path) -> bool:
    if not path.exists():
        return False
    with tempfile.TemporaryDirectory() as scratch:
        fresh = build(Path(scratch) / "support.sqlite")
        return list(dump_rows(fresh)) == list(dump_rows(path))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=DB_PATH, help="where to write the file")
    parser.add_argument("--check", action="store_true",
                        help="do not write; exit 1 if the file differs from a fresh build")
    args = parser.parse_args(argv)
    if args.check:
        if _is_current(args.output):
            print(f"{args.output} is up to date")
            return 0
        print(f"{args.output} is stale or missing: rebuild with "
              "python -m course_lib.data.build_support_db", file=sys.stderr)
        return 1
    path = build(args.output)
    print(f"wrote {path} ({N_USERS} users, {N_TICKETS} tickets)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
