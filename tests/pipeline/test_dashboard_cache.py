"""The dashboard and the forecast are cached under the data versions of the tables they read
(coachcrm.versions): a repeated view is served from the cache, a committed write to any of those
tables is on the next view, and `REPORT_TABLES` names every table their queries read."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from coachcrm import versions
from pipeline import dashboard, forecast, services
from pipeline.dashboard import REPORT_TABLES
from tests import factories
from tests.pipeline.test_dashboard_facts import history

# Commits for real: a test's usual transaction never commits, so its writes would bump no version.
committing = pytest.mark.django_db(transaction=True)

TABLE = re.compile(r'(?:FROM|JOIN)\s+"(\w+)"', re.IGNORECASE)


def test_report_tables_names_every_table_the_dashboard_and_forecast_read(manager, stages, loss_reason):
    made = history(manager, stages, loss_reason, seed=7)
    people = [manager, made["reps"][0], made["admin"]]
    filter_sets = [{}, {"region": made["regions"][0], "product_line": made["lines"][0]}, {"owner": made["reps"][1]}]
    read = set()
    with CaptureQueriesContext(connection) as captured:
        for user in people:
            for filters in filter_sets:
                dashboard._dashboard_summary(user=user, filters=filters)
                forecast._forecast_summary(user=user, filters=filters)
    for query in captured.captured_queries:
        read |= set(TABLE.findall(query["sql"]))
    assert read, "no query captured"
    assert set(REPORT_TABLES) <= versions._watched  # PipelineConfig.ready: in every process
    assert read <= set(REPORT_TABLES), f"read but not in REPORT_TABLES: {sorted(read - set(REPORT_TABLES))}"
    # And nothing more: a table listed but never read would make its writes recompute for nothing.
    assert set(REPORT_TABLES) <= read, f"in REPORT_TABLES but never read: {sorted(set(REPORT_TABLES) - read)}"


@pytest.fixture
def cache_on(settings):
    settings.REPORT_CACHE_SECONDS = 60


@committing
def test_a_repeated_view_is_served_from_the_cache_and_a_committed_move_is_on_the_next(
    cache_on, manager, manager_client, rep, stages
):
    deal = factories.OpportunityFactory(account=factories.AccountFactory(owner=rep))
    url = reverse("pipeline:dashboard")
    with CaptureQueriesContext(connection) as first:
        first_view = manager_client.get(url)
    with CaptureQueriesContext(connection) as second:
        second_view = manager_client.get(url)
    assert first_view.context["summary"] == second_view.context["summary"]
    assert first_view.context["forecast"] == second_view.context["forecast"]
    # The two reports' queries are two version reads now.
    assert len(second.captured_queries) < len(first.captured_queries) - 10
    lead = next(row for row in second_view.context["summary"]["funnel"] if row["stage_id"] == stages["Lead"].pk)
    assert lead["count"] == 1

    services.opportunity_move(opportunity=deal, stage=stages["Qualified"], by=rep)
    summary = manager_client.get(url).context["summary"]
    by_stage = {row["stage_id"]: row["count"] for row in summary["funnel"]}
    assert by_stage[stages["Lead"].pk] == 0 and by_stage[stages["Qualified"].pk] == 1
    assert summary == dashboard._dashboard_summary(user=manager, filters=_filters(summary))


def _filters(summary):
    return {"start": summary["period"]["start"], "end": summary["period"]["end"]}


def test_each_user_and_filter_has_its_own_report(cache_on, manager, rep, stages):
    other_manager = factories.ManagerFactory()
    factories.OpportunityFactory(account=factories.AccountFactory(owner=rep))
    mine = dashboard.dashboard_summary(user=manager, filters={})
    theirs = dashboard.dashboard_summary(user=other_manager, filters={})
    assert mine["totals"]["count"] == 1 and theirs["totals"]["count"] == 0
    narrowed = dashboard.dashboard_summary(user=manager, filters={"owner": factories.RepFactory(manager=manager)})
    assert narrowed["totals"]["count"] == 0


def test_the_dashboard_answers_while_the_cache_is_away(cache_on, monkeypatch, manager_client, rep, stages):
    from tests.coachcrm.test_versions import DownCache

    monkeypatch.setattr(versions, "cache", DownCache())
    factories.OpportunityFactory(account=factories.AccountFactory(owner=rep))
    response = manager_client.get(reverse("pipeline:dashboard"))
    assert response.status_code == 200 and response.context["summary"]["totals"]["count"] == 1
