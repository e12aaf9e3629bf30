"""Who is asking: map a traffic trace's user to a customer in the support database.

The seeded traffic (:func:`course_lib.traffic.support_traffic`) names users ``user-00000`` to
``user-00999``; the shipped support database (``course_lib/data/support.sqlite``) holds 200
customers and their tickets. The agent's two account tools need a real user id and ticket
number, so each traffic user is mapped, deterministically, onto one of the customers who have a
ticket, and the customer's most recent ticket is the one the agent looks up ("any news on my
ticket?"). The same traffic user always gets the same customer.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from course_lib.tools import connect_read_only, support_db_path

__all__ = ["Customer", "CustomerDirectory"]

_TRAFFIC_USER = re.compile(r"user-(\d+)")


@dataclass(frozen=True)
class Customer:
    """A customer of the support database and the ticket the agent looks up for them."""

    user_id: int
    ticket_id: int


class CustomerDirectory:
    """The customers who have at least one ticket, with their most recent ticket."""

    def __init__(self, db_path: str | os.PathLike[str] | None = None) -> None:
        connection = connect_read_only(db_path if db_path is not None else support_db_path())
        try:
            rows = connection.execute(
                "SELECT user_id, MAX(id) FROM tickets GROUP BY user_id ORDER BY user_id"
            ).fetchall()
        finally:
            connection.close()
        if not rows:
            raise ValueError("the support database has no tickets: no customer to map users to")
        self.customers = tuple(Customer(int(user), int(ticket)) for user, ticket in rows)

    def __len__(self) -> int:
        return len(self.customers)

    def for_traffic_user(self, traffic_user_id: str) -> Customer:
        """The customer standing for ``traffic_user_id`` (``"user-00042"``)."""
        match = _TRAFFIC_USER.fullmatch(traffic_user_id) if isinstance(
            traffic_user_id, str) else None
        if match is None:
            raise ValueError(f"a traffic user id looks like 'user-00042', got {traffic_user_id!r}")
        return self.customers[int(match.group(1)) % len(self.customers)]
