"""TerritoryCoverage: derived from the territory rule by the services, and what visibility reads."""

import io
import random

from django.db import connection
from django.test.utils import CaptureQueriesContext

import access
from accounts import services as account_services
from accounts import territories as territory_services
from accounts.models import Account, ProductLine, Territory, TerritoryCoverage
from csvio.services import import_batch_confirm, import_batch_create
from tests import factories


def covered(territory) -> set[int]:
    return set(TerritoryCoverage.objects.filter(territory=territory).values_list("account_id", flat=True))


def by_rule() -> set[tuple[int, int, int]]:
    """What the rule says, account by account and member by member: the oracle the table must equal."""
    return {
        (member.pk, territory.pk, account.pk)
        for account in Account.objects.all()
        for territory in Territory.objects.covering(account)
        for member in territory.members.all()
    }


def stored() -> set[tuple[int, int, int]]:
    return set(TerritoryCoverage.objects.values_list("user_id", "territory_id", "account_id"))


def test_creating_a_territory_covers_the_accounts_its_rule_matches(admin_user, rep, other_rep, north, east):
    inside = factories.AccountFactory(owner=other_rep, region=north)
    factories.AccountFactory(owner=other_rep, region=east)
    territory = territory_services.territory_create(by=admin_user, name="North", region=north, members=[rep])
    assert covered(territory) == {inside.pk}
    assert list(access.accounts(rep)) == [inside]


def test_changing_the_rule_moves_the_coverage_and_what_members_see(admin_user, rep, other_rep, north, east):
    in_north = factories.AccountFactory(owner=other_rep, region=north)
    in_east = factories.AccountFactory(owner=other_rep, region=east)
    territory = territory_services.territory_create(by=admin_user, name="T", region=north, members=[rep])
    territory_services.territory_update(territory=territory, by=admin_user, region=east)
    assert covered(territory) == {in_east.pk}
    assert set(access.accounts(rep)) == {in_east}
    assert in_north not in access.accounts(rep)


def test_a_deactivated_territory_covers_nothing_and_reactivating_restores_it(admin_user, rep, other_rep, north):
    account = factories.AccountFactory(owner=other_rep, region=north)
    territory = territory_services.territory_create(by=admin_user, name="North", region=north, members=[rep])
    territory_services.territory_deactivate(territory=territory, by=admin_user)
    assert covered(territory) == set()
    assert list(access.accounts(rep)) == []
    territory_services.territory_update(territory=territory, by=admin_user, active=True)
    assert covered(territory) == {account.pk}


def test_members_who_join_see_the_coverage_and_members_who_leave_do_not(admin_user, rep, other_rep, north):
    account = factories.AccountFactory(owner=admin_user, region=north)
    territory = territory_services.territory_create(by=admin_user, name="North", region=north, members=[other_rep])
    assert list(access.accounts(rep)) == []
    territory_services.territory_update(territory=territory, by=admin_user, members=[rep])
    assert list(access.accounts(rep)) == [account]
    assert list(access.accounts(other_rep)) == []


def test_account_create_and_update_keep_the_coverage(admin_user, rep, other_rep, north, east):
    territory = territory_services.territory_create(by=admin_user, name="North", region=north, members=[rep])
    account = account_services.account_create(
        by=admin_user, owner=other_rep, name="Acme", region=north, industry=factories.IndustryFactory()
    )
    assert covered(territory) == {account.pk}
    account_services.account_update(account=account, by=admin_user, region=east)
    assert covered(territory) == set()
    assert list(access.accounts(rep)) == []


def test_a_product_line_change_is_a_coverage_change(admin_user, rep, other_rep, north):
    cloud = factories.ProductLineFactory(name="Cloud")
    territory = territory_services.territory_create(by=admin_user, name="Cloud", product_line=cloud, members=[rep])
    account = factories.AccountFactory(owner=other_rep, region=north)
    assert covered(territory) == set()
    account_services.account_update(account=account, by=admin_user, product_lines=[cloud])
    assert covered(territory) == {account.pk}
    account_services.account_update(account=account, by=admin_user, product_lines=[])
    assert covered(territory) == set()


def test_imported_accounts_are_covered(admin_user, rep, north):
    territory = territory_services.territory_create(by=admin_user, name="North", region=north, members=[rep])
    factories.IndustryFactory(name="Retail")
    csv = b"name,region,industry\nAcme,North,Retail\nGlobex,North,Retail\n"
    batch = import_batch_create(by=rep, kind="accounts", filename="a.csv", data=csv)
    import_batch_confirm(batch=batch, by=rep)
    assert covered(territory) == set(Account.objects.filter(name__in=["Acme", "Globex"]).values_list("pk", flat=True))


def test_the_table_equals_the_rule_after_a_mixed_history(admin_user, rep, other_rep):
    """Many territories and accounts changed in every way a service allows: the table is the rule."""
    rnd = random.Random(7)
    regions = [factories.RegionFactory(name=name) for name in ("North", "East", "West")]
    industries = [factories.IndustryFactory(name=name) for name in ("Retail", "Energy")]
    lines = [factories.ProductLineFactory(name=name) for name in ("Cloud", "Support")]
    territories = [
        territory_services.territory_create(
            by=admin_user,
            name=f"T{index}",
            region=rnd.choice([None, *regions]),
            industry=rnd.choice([None, *industries]),
            product_line=rnd.choice([None, *lines]),
            size_tier=rnd.choice(["", *Account.SizeTier.values]),
            members=rnd.sample([rep, other_rep], rnd.randint(1, 2)),
        )
        for index in range(6)
    ]
    accounts = [
        account_services.account_create(
            by=admin_user,
            owner=other_rep,
            name=f"Company {index}",
            region=rnd.choice(regions),
            industry=rnd.choice(industries),
            size_tier=rnd.choice(Account.SizeTier.values),
            product_lines=rnd.sample(lines, rnd.randint(0, 2)),
        )
        for index in range(25)
    ]
    for account in rnd.sample(accounts, 8):
        account_services.account_update(
            account=account,
            by=admin_user,
            region=rnd.choice(regions),
            product_lines=rnd.sample(list(ProductLine.objects.all()), 1),
        )
    territory_services.territory_update(territory=territories[0], by=admin_user, region=regions[2], size_tier="")
    territory_services.territory_update(territory=territories[2], by=admin_user, members=[other_rep])
    territory_services.territory_deactivate(territory=territories[1], by=admin_user)
    assert stored() == by_rule()
    assert stored()  # the scenario does cover something


def test_a_full_refresh_rebuilds_what_a_bulk_load_left_out(admin_user, rep, north):
    territory = factories.TerritoryFactory(region=north, members=[rep])
    Account.objects.bulk_create(
        [Account(name="Bulk", normalized_name="BULK", region=north, industry=factories.IndustryFactory(), owner=rep)]
    )
    assert covered(territory) == set()
    assert territory_services.coverage_refresh() == 1
    assert covered(territory) == set(Account.objects.values_list("pk", flat=True))


def test_a_refresh_costs_the_same_queries_for_one_account_or_many(admin_user, rep, north):
    factories.TerritoryFactory(region=north, members=[rep])
    factories.TerritoryFactory(region=None, members=[rep])
    accounts = factories.AccountFactory.create_batch(30, region=north)

    def queries(ids) -> int:
        with CaptureQueriesContext(connection) as captured:
            territory_services.coverage_refresh(accounts=ids)
        return len(captured)

    assert queries([accounts[0].pk]) == queries([a.pk for a in accounts])
    assert len(covered(Territory.objects.first())) == 30


def test_the_command_rebuilds_the_coverage(rep, north):
    from django.core.management import call_command

    territory = factories.TerritoryFactory(region=north, members=[rep])
    Account.objects.bulk_create(
        [Account(name="Bulk", normalized_name="BULK", region=north, industry=factories.IndustryFactory(), owner=rep)]
    )
    out = io.StringIO()
    call_command("coverage_refresh", stdout=out)
    assert "1 rows" in out.getvalue()
    assert covered(territory) == set(Account.objects.values_list("pk", flat=True))


def test_a_long_list_of_accounts_is_refreshed_in_pieces(rep, north, monkeypatch):
    territory = factories.TerritoryFactory(region=north, members=[rep])
    accounts = factories.AccountFactory.create_batch(7, region=north)
    TerritoryCoverage.objects.all().delete()
    monkeypatch.setattr(territory_services, "COVERAGE_CHUNK", 3)
    assert territory_services.coverage_refresh(accounts=[a.pk for a in accounts]) == 7
    assert covered(territory) == {a.pk for a in accounts}


def test_an_edit_that_cannot_change_coverage_does_not_refresh_it(admin_user, rep, north, monkeypatch):
    account = factories.AccountFactory(region=north)
    calls = []
    monkeypatch.setattr(account_services, "coverage_refresh", lambda **kwargs: calls.append(kwargs))
    account_services.account_update(account=account, by=admin_user, notes="Met the CFO")
    assert calls == []
    account_services.account_update(account=account, by=admin_user, size_tier=Account.SizeTier.KEY)
    assert calls == [{"accounts": [account.pk]}]
