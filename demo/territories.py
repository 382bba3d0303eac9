"""The demo organisation's territories: alice has the North, bob the East, both share the key accounts."""

from accounts.models import Account, Industry, Region, Territory
from accounts.services import account_create
from accounts.territories import territory_create

# name, region, size tier, members (in precedence order)
DEMO_TERRITORIES = [
    ("North", "North", "", ["alice"]),
    ("East", "East", "", ["bob"]),
    ("West / Key accounts", "West", Account.SizeTier.KEY, ["alice", "bob"]),
    # Overlaps North and East on their key accounts with other members: the conflict
    # report shows those, as it would in a real organisation.
    ("Key accounts", None, Account.SizeTier.KEY, ["alice", "bob"]),
]


def seed(*, users: dict) -> list[Territory]:
    """Create the demo territories; existing ones (and the demo accounts' owners) are left as they are."""
    territories = []
    for name, region, size_tier, members in DEMO_TERRITORIES:
        territory = Territory.objects.filter(name=name).first()
        if territory is None:
            territory = territory_create(
                by=users["admin"],
                name=name,
                members=[users[m] for m in members],
                region=Region.objects.get_or_create(name=region)[0] if region else None,
                size_tier=size_tier,
            )
        territories.append(territory)
    seed_routed_accounts(users=users)
    return territories


# name, created by, region, size tier: new accounts the territories route (to bob, then to alice).
DEMO_ROUTED_ACCOUNTS = [
    ("Osprey Holdings", "alice", "East", Account.SizeTier.KEY),
    ("Nordlys Energy", "bob", "North", Account.SizeTier.MID),
]


def seed_routed_accounts(*, users: dict) -> list[Account]:
    """Create two accounts through the routing, so their pages explain who got them and why."""
    accounts = []
    for name, creator, region, size_tier in DEMO_ROUTED_ACCOUNTS:
        account = Account.objects.filter(name=name).first()
        if account is None:
            account = account_create(
                by=users[creator],
                name=name,
                region=Region.objects.get(name=region),
                industry=Industry.objects.order_by("name").first(),
                size_tier=size_tier,
            )
        accounts.append(account)
    return accounts
