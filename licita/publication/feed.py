"""The change feed's sequencer: gives committed releases their feed position, in commit order.

A release row is written inside its act's transaction without a position. Right after that
transaction commits (and on every worker tick, in case a process died in between), the sequencer
takes a lock, and numbers every committed release that has no position yet, after the highest
position given so far. Positions are therefore handed out only to rows that are already visible,
one sequencer at a time, so the set of numbered releases always grows at its end: a reader that
has passed position N can never later find a release numbered N or lower. That is what makes the
feed unable to skip or repeat, whatever order concurrent writers commit in, and it does not wait
for unrelated long transactions.
"""

from __future__ import annotations

import logging

from django.db import DatabaseError, connection, transaction

logger = logging.getLogger(__name__)

#: Key of the PostgreSQL advisory lock that serialises sequencers.
SEQUENCER_LOCK = 0x11C17A

_NUMBER = """
WITH base AS (SELECT COALESCE(MAX(seq), 0) AS top FROM publication_release),
todo AS (SELECT id, ROW_NUMBER() OVER (ORDER BY id) AS n FROM publication_release WHERE seq IS NULL)
UPDATE publication_release SET seq = (SELECT top FROM base) + todo.n FROM todo WHERE publication_release.id = todo.id
"""


def releases_sequence() -> int:
    """Give every committed release without a feed position the next positions; return how many."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SEQUENCER_LOCK])
        cursor.execute(_NUMBER)
        if connection.vendor == "sqlite":
            # Python's sqlite3 does not report rowcount for a statement that starts with WITH.
            cursor.execute("SELECT changes()")
            return int(cursor.fetchone()[0])
        return max(cursor.rowcount, 0)


def releases_sequence_after_commit() -> None:
    """Run the sequencer; a failure is logged and left to the next commit or worker tick."""
    try:
        releases_sequence()
    except DatabaseError:
        logger.exception("feed sequencer failed; the next commit or worker tick will number these releases")
