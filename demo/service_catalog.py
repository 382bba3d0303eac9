"""The demo catalog, and a few grants: some approved at once, one waiting for the manager."""

from decimal import Decimal

from accounts.models import Employment
from service_catalog import services
from service_catalog.models import Grant, ServiceItem

CATALOG = [
    # name, category, unit cost, max per grant, description
    ("On-site health check", "service", "250.00", 2, "A day of an engineer reviewing the customer's setup."),
    ("Extra training seat", "service", "120.00", 10, "One seat at a scheduled training course."),
    ("Priority support month", "service", "300.00", 3, "A month of priority support on top of the contract."),
    ("Branded notebook", "gift", "15.00", 20, "Notebook and pen with our logo."),
    ("Book voucher", "gift", "40.00", 5, ""),
    ("Business lunch", "hospitality", "60.00", 6, "Per person."),
    ("Conference pass", "hospitality", "450.00", 2, "A pass to our annual customer conference."),
    ("Stadium tickets", "hospitality", "180.00", 4, "Subject to the anti-bribery yearly cap per person."),
]

# rep, item, quantity, reason, details — the last one is over alice's per-grant limit.
GRANTS = [
    ("alice", "Business lunch", 2, "relationship", "Lunch with the IT team"),
    ("alice", "Extra training seat", 2, "complaint", "Make up for the delayed rollout"),
    ("bob", "Branded notebook", 5, "event", "Workshop giveaways"),
    ("bob", "On-site health check", 1, "complaint", "Performance complaint"),
    ("alice", "Conference pass", 1, "relationship", "Keynote invitation for the CIO"),
]


def seed(*, users: dict) -> dict:
    """Create the catalog and the sample grants; existing ones are left as they are."""
    items = {}
    for name, category, cost, max_quantity, description in CATALOG:
        items[name], _created = ServiceItem.objects.get_or_create(
            name=name,
            defaults={
                "category": category,
                "unit_cost": Decimal(cost),
                "max_quantity": max_quantity,
                "description": description,
            },
        )
    if Grant.objects.exists():
        return items
    for index, (username, item_name, quantity, reason, details) in enumerate(GRANTS):
        rep = users[username]
        positions = Employment.objects.current().filter(account__owner=rep).select_related("account", "contact")
        position = positions.order_by("account__name", "pk")[index]
        services.grant_request(
            by=rep,
            item=items[item_name],
            quantity=quantity,
            account=position.account,
            recipient=position.contact,
            reason=reason,
            details=details,
        )
    return items
