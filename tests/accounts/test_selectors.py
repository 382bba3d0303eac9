import access
from accounts import selectors
from tests import factories


def test_rep_sees_only_his_own_accounts(rep, other_rep):
    mine = factories.AccountFactory(owner=rep)
    factories.AccountFactory(owner=other_rep)
    assert list(access.accounts(rep)) == [mine]


def test_manager_sees_his_team_and_his_own_accounts(manager, rep, other_rep):
    team_account = factories.AccountFactory(owner=rep)
    own = factories.AccountFactory(owner=manager)
    factories.AccountFactory(owner=other_rep)
    assert set(access.accounts(manager)) == {team_account, own}


def test_admin_sees_every_account(admin_user, rep, other_rep):
    factories.AccountFactory(owner=rep)
    factories.AccountFactory(owner=other_rep)
    assert access.accounts(admin_user).count() == 2


def test_contacts_are_visible_through_current_and_former_positions(rep, other_rep):
    mine = factories.AccountFactory(owner=rep)
    theirs = factories.AccountFactory(owner=other_rep)
    current = factories.person_at(mine)
    former = factories.EmploymentFactory(account=mine, end_date=factories.timezone.localdate()).contact
    factories.person_at(theirs)
    assert set(access.contacts(rep)) == {current, former}


def test_history_entries_lists_field_changes_with_their_author(rep):
    account = factories.AccountFactory(owner=rep, notes="")
    account.notes = "Key prospect"
    account._change_reason = None
    account.save()
    entries = selectors.history_entries(records=account.history.all())
    assert [e["record"].history_type for e in entries] == ["~", "+"]
    assert entries[0]["changes"] == [{"field": "notes", "old": "", "new": "Key prospect"}]


def test_history_entries_show_related_names_and_choice_labels_not_ids_and_codes(
    rep, other_rep, django_assert_num_queries
):
    account = factories.AccountFactory(owner=rep, size_tier="mid")
    for owner, tier in [(other_rep, "key"), (rep, "small")]:
        account.owner, account.size_tier = owner, tier
        account.save()
    # The records, then one query for the owners' names (not one per entry).
    with django_assert_num_queries(2):
        entries = selectors.history_entries(records=account.history.all())
    latest = {str(c["field"]): (c["old"], c["new"]) for c in entries[0]["changes"]}
    assert latest["owner"] == (str(other_rep), str(rep))
    assert latest["size tier"] == ("Key account", "Small")


# --- territories widen the scope ------------------------------------------------------------


def test_rep_sees_accounts_his_active_territories_cover(rep, other_rep):
    north = factories.RegionFactory(name="North")
    covered = factories.AccountFactory(owner=other_rep, region=north)
    factories.AccountFactory(owner=other_rep, region=factories.RegionFactory(name="East"))
    territory = factories.TerritoryFactory(region=north, members=[rep])
    assert list(access.accounts(rep)) == [covered]
    territory.active = False
    territory.save()
    assert list(access.accounts(rep)) == []


def test_rep_does_not_see_accounts_of_territories_he_is_not_in(rep, other_rep):
    north = factories.RegionFactory(name="North")
    factories.AccountFactory(owner=other_rep, region=north)
    factories.TerritoryFactory(region=north, members=[other_rep])
    assert list(access.accounts(rep)) == []


def test_manager_sees_accounts_his_teams_territories_cover(manager, rep, other_rep):
    north = factories.RegionFactory(name="North")
    covered = factories.AccountFactory(owner=other_rep, region=north)
    factories.TerritoryFactory(region=north, members=[rep])
    assert list(access.accounts(manager)) == [covered]
    assert list(access.accounts(other_rep.manager)) == [covered]  # as owner's manager
    assert access.accounts(factories.ManagerFactory()).count() == 0


def test_territory_scope_follows_product_lines(rep, other_rep):
    line = factories.ProductLineFactory(name="Cloud")
    with_line = factories.AccountFactory(owner=other_rep)
    with_line.product_lines.set([line])
    factories.AccountFactory(owner=other_rep)
    factories.TerritoryFactory(product_line=line, members=[rep])
    assert list(access.accounts(rep)) == [with_line]


def test_territory_scope_needs_every_condition_of_the_rule(rep, other_rep):
    north, east = factories.RegionFactory(name="North"), factories.RegionFactory(name="East")
    retail, finance = factories.IndustryFactory(name="Retail"), factories.IndustryFactory(name="Finance")
    line = factories.ProductLineFactory(name="Cloud")
    covered = factories.AccountFactory(owner=other_rep, region=north, industry=retail, size_tier="key")
    covered.product_lines.set([line, factories.ProductLineFactory(name="Edge")])
    for region, industry, size_tier, lines in [
        (east, retail, "key", [line]),
        (north, finance, "key", [line]),
        (north, retail, "mid", [line]),
        (north, retail, "key", []),
    ]:
        factories.AccountFactory(
            owner=other_rep, region=region, industry=industry, size_tier=size_tier
        ).product_lines.set(lines)
    factories.TerritoryFactory(region=north, industry=retail, size_tier="key", product_line=line, members=[rep])
    assert list(access.accounts(rep)) == [covered]


def test_account_reached_by_every_term_is_one_row(rep):
    # visible_to is a UNION of owned, held and covered ids: an account in all three (and in two
    # territories) must still be one row on the list and count once.
    north = factories.RegionFactory(name="North")
    account = factories.AccountFactory(owner=rep, region=north)
    factories.CoachFactory(account=account, holder=rep)
    factories.TerritoryFactory(region=north, members=[rep])
    factories.TerritoryFactory(members=[rep])
    assert list(access.accounts(rep)) == [account]
    assert access.accounts(rep).count() == 1
