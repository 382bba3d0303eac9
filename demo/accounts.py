"""The demo organisation's customers: accounts, people and their careers."""

import datetime
import random

from accounts.models import (
    Account,
    Contact,
    Employment,
    Industry,
    ProductLine,
    Region,
    normalize_company_name,
    pgettext_noop,
)

# UI words rather than proper names: marked so that NamedLookup.label shows them translated,
# each under its model's `label_context`.
REGIONS = [pgettext_noop("region", "North"), pgettext_noop("region", "East"), pgettext_noop("region", "West")]
INDUSTRIES = [
    pgettext_noop("industry", "Manufacturing"),
    pgettext_noop("industry", "Finance"),
    pgettext_noop("industry", "Healthcare"),
    pgettext_noop("industry", "Retail"),
]
PRODUCT_LINES = [
    pgettext_noop("product line", "Analytics"),
    pgettext_noop("product line", "Cloud"),
    pgettext_noop("product line", "Support"),
]
COMPANIES = [
    "Acme Tools", "Borealis Bank", "Cedar Health", "Delta Retail", "Evergreen Foods", "Fjord Insurance",
    "Granite Works", "Harbor Clinics", "Ionic Motors", "Juniper Stores", "Kestrel Capital", "Lumen Hospitals",
    "Maple Logistics", "Nimbus Pharma", "Orchid Fashion", "Pioneer Steel", "Quartz Credit", "Redwood Care",
    "Summit Outlets", "Tundra Machines", "Umber Savings", "Vista Medical", "Willow Markets", "Xenon Plastics",
    "Yarrow Finance", "Zephyr Labs", "Atlas Components", "Beacon Grocers", "Cobalt Biotech", "Drift Apparel",
]  # fmt: skip
FIRST_NAMES = [
    "Anna", "Ben", "Chen", "Dana", "Eli", "Fatima", "George", "Hana", "Ivan", "Julia", "Kofi", "Lena",
    "Marco", "Nadia", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tara", "Umar", "Vera", "Wei", "Xena",
]  # fmt: skip
LAST_NAMES = [
    "Andersen", "Brooks", "Costa", "Dubois", "Evans", "Fischer", "Garcia", "Huang", "Ito", "Jensen",
    "Kowalski", "Li", "Moreau", "Novak", "Okafor", "Patel", "Rossi", "Schmidt", "Tanaka", "Weber",
]  # fmt: skip
TITLES = [
    ("Head of IT", "it", "director"),
    ("CFO", "finance", "c_level"),
    ("Procurement Manager", "procurement", "manager"),
    ("Operations Director", "operations", "director"),
    ("HR Business Partner", "hr", "staff"),
    ("CEO", "executive", "c_level"),
    ("IT Architect", "it", "staff"),
    ("Buyer", "procurement", "staff"),
]


def seed(*, users: dict, today: datetime.date) -> dict:
    """Create the demo accounts and people; existing ones are left as they are."""
    rnd = random.Random(2026)
    regions = [Region.objects.get_or_create(name=n)[0] for n in REGIONS]
    industries = [Industry.objects.get_or_create(name=n)[0] for n in INDUSTRIES]
    product_lines = [ProductLine.objects.get_or_create(name=n)[0] for n in PRODUCT_LINES]
    reps = [users["alice"], users["bob"]]
    accounts = []
    for index, name in enumerate(COMPANIES):
        account, created = Account.objects.get_or_create(
            normalized_name=normalize_company_name(name),
            defaults={
                "name": name,
                "region": regions[index % 3],
                "industry": industries[index % 4],
                "size_tier": ["key", "mid", "mid", "small"][index % 4],
                "owner": reps[index % 2] if index < 26 else users["manager"],
                "notes": "",
            },
        )
        if created:
            account.product_lines.set(rnd.sample(product_lines, k=1 + index % 3))
        accounts.append(account)

    contacts = []
    for index in range(72):
        first = FIRST_NAMES[index % len(FIRST_NAMES)]
        last = LAST_NAMES[(index * 7) % len(LAST_NAMES)]
        email = f"{first}.{last}{index}@example.com".lower()
        contact, created = Contact.objects.get_or_create(
            email=email, defaults={"first_name": first, "last_name": last, "phone": f"+1 555 01{index:02d}"}
        )
        contacts.append(contact)
        if not created:
            continue
        title, function, seniority = TITLES[index % len(TITLES)]
        home = accounts[index % len(accounts)]
        started = today - datetime.timedelta(days=200 + (index * 37) % 1500)
        if index % 6 == 5:
            # A career move: the person worked somewhere else before joining this account.
            previous = accounts[(index + 11) % len(accounts)]
            earlier = started - datetime.timedelta(days=900)
            Employment.objects.create(
                contact=contact,
                account=previous,
                title="Senior " + title.split()[-1],
                function=function,
                seniority="manager",
                start_date=earlier,
                end_date=started - datetime.timedelta(days=1),
            )
        Employment.objects.create(
            contact=contact, account=home, title=title, function=function, seniority=seniority, start_date=started
        )
    return {"accounts": accounts, "contacts": contacts, "regions": regions, "product_lines": product_lines}
