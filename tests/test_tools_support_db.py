"""course_lib/data/support.sqlite and the script that builds it.

The database is committed course data; these tests rebuild it from the script and require the
same rows, so the file can never drift from its recipe. They also check that the data is what
the course says it is (200 users, 1,000 tickets, consistent with the knowledge base).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from course_lib.data import build_support_db
from course_lib.datasets import load_knowledge_base
from course_lib.tools import support_db_path


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_support_db.build(tmp_path_factory.mktemp("db") / "support.sqlite")


def rows(path: Path, sql: str) -> list[tuple]:
    connection = sqlite3.connect(path)
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


def test_the_shipped_database_is_what_the_script_builds(fresh: Path) -> None:
    shipped = support_db_path()
    assert shipped == build_support_db.DB_PATH
    assert list(build_support_db.dump_rows(shipped)) == list(build_support_db.dump_rows(fresh)), (
        "support.sqlite is stale: run python -m course_lib.data.build_support_db")


def test_building_twice_gives_identical_files(fresh: Path, tmp_path: Path) -> None:
    again = build_support_db.build(tmp_path / "again.sqlite")
    assert list(build_support_db.dump_rows(again)) == list(build_support_db.dump_rows(fresh))
    # Same SQLite library, same statements: byte for byte the same file.
    assert again.read_bytes() == fresh.read_bytes()


def test_check_mode_reports_a_current_and_a_stale_file(fresh: Path, tmp_path: Path) -> None:
    assert build_support_db.main(["--check", "--output", str(fresh)]) == 0
    stale = tmp_path / "stale.sqlite"
    stale.write_bytes(fresh.read_bytes())
    connection = sqlite3.connect(stale)
    with connection:
        connection.execute("UPDATE tickets SET status = 'closed' WHERE id = 10001")
    connection.close()
    assert build_support_db.main(["--check", "--output", str(stale)]) == 1
    assert build_support_db.main(["--check", "--output", str(tmp_path / "absent")]) == 1


def test_sizes_and_meta() -> None:
    db = support_db_path()
    assert rows(db, "SELECT COUNT(*) FROM users") == [(200,)]
    assert rows(db, "SELECT COUNT(*) FROM tickets") == [(1000,)]
    assert rows(db, "SELECT MIN(id), MAX(id) FROM tickets") == [(10001, 11000)]
    meta = dict(rows(db, "SELECT key, value FROM meta"))
    assert meta["seed"] == str(build_support_db.SEED)
    assert meta["as_of"] == build_support_db.AS_OF.isoformat()


def test_the_data_is_consistent_with_itself_and_the_knowledge_base() -> None:
    db = support_db_path()
    kb = load_knowledge_base()
    # Every ticket belongs to an existing user on a paid plan (Free gets the community forum).
    assert rows(db, "SELECT COUNT(*) FROM tickets t LEFT JOIN users u ON u.id = t.user_id "
                    "WHERE u.id IS NULL OR u.plan = 'Free'") == [(0,)]
    # Every ticket is about a real article, in that article's category.
    for article, category in rows(db, "SELECT DISTINCT kb_article, category FROM tickets"):
        assert kb.by_id(article).category == category
    # One Owner per workspace, one plan per workspace.
    assert rows(db, "SELECT workspace FROM users GROUP BY workspace "
                    "HAVING SUM(role = 'Owner') != 1 OR COUNT(DISTINCT plan) != 1") == []
    assert rows(db, "SELECT COUNT(*) FROM users WHERE email NOT LIKE '%_@%_.example'") == [(0,)]
    assert rows(db, "SELECT COUNT(*) FROM tickets WHERE updated_at < created_at "
                    "OR created_at > '2026-03-01'") == [(0,)]
    statuses = {status for (status,) in rows(db, "SELECT DISTINCT status FROM tickets")}
    assert statuses == {"open", "pending", "on_hold", "solved", "closed"}
