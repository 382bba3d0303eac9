"""The demo organisation's people: an admin, a manager and two reps."""

from team.models import User

DEMO_PASSWORD = "coachcrm-demo"  # noqa: S105 - printed for the demo, refused with DEBUG off

DEMO_USERS = [
    # username, first, last, role, selling style
    ("admin", "Ada", "Admin", User.Role.ADMIN, User.SellingStyle.ANALYTICAL),
    ("manager", "Max", "Manager", User.Role.MANAGER, User.SellingStyle.DRIVER),
    ("alice", "Alice", "Archer", User.Role.REP, User.SellingStyle.EXPRESSIVE),
    ("bob", "Bob", "Baker", User.Role.REP, User.SellingStyle.AMIABLE),
]


def seed() -> dict:
    """Create the demo users; existing ones keep their passwords and settings."""
    users = {}
    for username, first, last, role, style in DEMO_USERS:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "first_name": first,
                "last_name": last,
                "email": f"{username}@coachcrm.example",
                "role": role,
                "selling_style": style,
                "is_staff": role == User.Role.ADMIN,
                "is_superuser": role == User.Role.ADMIN,
            },
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        users[username] = user
    for rep in ("alice", "bob"):
        if users[rep].manager_id is None:
            users[rep].manager = users["manager"]
            users[rep].save(update_fields=["manager"])
    return users
