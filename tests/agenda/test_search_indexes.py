"""On PostgreSQL the search and the dashboard's period filter can use their indexes (plan shape, not timing)."""

import datetime

import pytest
from django.db import connection

from accounts.models import Contact
from pipeline.dashboard import stage_entries


def _plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        # Sequential scans made dearer than any index: the plan shows whether the index matches at all.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.postgres
def test_people_matching_is_answered_by_the_joined_fields_trigram_index(db):
    # Unordered: the list's order has its own index (contact_by_name), which on an empty table
    # PostgreSQL walks instead, filtering; at size it picks either by the term's rarity.
    assert "search_contact_person_trgm" in _plan(Contact.objects.matching("bor").order_by().values("pk"))


@pytest.mark.postgres
def test_moves_in_a_period_are_answered_by_the_index_on_at(db):
    moves = stage_entries(start=datetime.date(2026, 4, 1), end=datetime.date(2026, 6, 30)).values("pk")
    assert "stagechange_at" in _plan(moves)
