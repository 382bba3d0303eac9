from decimal import Decimal

import pytest
from playwright.sync_api import expect

from service_catalog import services
from service_catalog.models import Grant, ServiceItem
from tests import factories
from tests.e2e.conftest import log_in, navigate

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_adds_an_item_a_rep_grants_under_and_over_the_limit_and_the_manager_approves(page):
    admin = factories.AdminFactory(username="ada")
    manager = factories.ManagerFactory(username="max")
    rep = factories.RepFactory(username="rita", first_name="Rita", last_name="Rep", manager=manager)
    # The transactional flush removes the migration's matrix: set the rep's and manager's.
    services.authority_set(by=admin, role="rep", per_grant="300", per_month="1000")
    services.authority_set(by=admin, role="manager", per_grant="2000")
    account = factories.AccountFactory(owner=rep, name="Kestrel Capital")
    factories.person_at(account, contact__first_name="Lena", contact__last_name="Novak")

    log_in(page, "ada")
    navigate(page, "Extras", "Catalog")
    page.get_by_role("link", name="New item").click()
    page.get_by_label("Name").fill("Business lunch")
    page.get_by_label("Category").select_option(label="Hospitality")
    page.get_by_label("Unit cost").fill("60")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("link", name="Business lunch")).to_be_visible()
    page.get_by_role("button", name="Log out").click()

    log_in(page, "rita")
    navigate(page, "Extras", "What I may give")
    expect(page.get_by_test_id("month-remaining")).to_contain_text("1,000.00")
    page.get_by_role("link", name="Grant", exact=True).click()
    page.get_by_label("Quantity").fill("2")
    page.get_by_label("Account").select_option(label="Kestrel Capital")
    page.wait_for_load_state("networkidle")  # the form narrows its recipients to the account (htmx)
    page.get_by_label("Recipient").select_option(label="Lena Novak — Kestrel Capital")
    page.get_by_label("Reason").select_option(label="Relationship")
    page.get_by_role("button", name="Grant").click()
    expect(page.get_by_test_id("status")).to_have_text("Approved")
    expect(page.get_by_test_id("amount")).to_contain_text("120.00")

    navigate(page, "Extras", "What I may give")
    expect(page.get_by_test_id("month-remaining")).to_contain_text("880.00")
    page.get_by_role("link", name="Grant", exact=True).click()
    page.get_by_label("Quantity").fill("6")
    page.get_by_label("Account").select_option(label="Kestrel Capital")
    page.wait_for_load_state("networkidle")  # the form narrows its recipients to the account (htmx)
    page.get_by_label("Recipient").select_option(label="Lena Novak — Kestrel Capital")
    page.get_by_label("Reason").select_option(label="Complaint resolution")
    page.wait_for_load_state("networkidle")  # the approval preview follows each change
    page.get_by_role("button", name="Grant").click()
    expect(page.get_by_test_id("status")).to_have_text("Pending approval")
    expect(page.get_by_text("over by 60.00")).to_be_visible()
    page.get_by_role("button", name="Log out").click()

    log_in(page, "max")
    expect(page.get_by_test_id("unread-count")).to_have_text("1")
    navigate(page, "Extras", "Approvals")
    row = page.get_by_test_id("approval")
    expect(row).to_contain_text("360.00")
    row.get_by_label("Note").fill("Fine, they had a rough quarter")
    row.get_by_role("button", name="Approve").click()
    # htmx swapped the row in place: the decision shows without a page load.
    expect(page.get_by_test_id("approval").get_by_test_id("status")).to_have_text("Approved")

    navigate(page, "Extras", "Ledger")
    expect(page.get_by_role("row", name="Kestrel Capital")).to_contain_text("480.00")

    assert ServiceItem.objects.get().name == "Business lunch"
    assert [(g.amount, g.status) for g in Grant.objects.order_by("pk")] == [
        (Decimal("120.00"), "approved"),
        (Decimal("360.00"), "approved"),
    ]
    assert Grant.objects.get(amount=360).authorised_by == manager
