"""seed_demo: the demo organisation `make run` loads."""

import pytest

from team.models import User


@pytest.mark.django_db
def test_seed_demo_twice_changes_nothing(settings):
    from django.core.management import call_command

    from accounts.models import Account, Contact, Employment

    settings.DEBUG = True
    call_command("seed_demo")
    counts = [m.objects.count() for m in (User, Account, Contact, Employment)]
    call_command("seed_demo")
    assert [m.objects.count() for m in (User, Account, Contact, Employment)] == counts
    assert counts[1] >= 30
    assert User.objects.get(username="alice").check_password("coachcrm-demo")
    assert Employment.objects.filter(end_date__isnull=False).exists()
    # Its deals' moves carry their deal's owner (StageChange.owner, the dashboard's team scope).
    from django.db.models import F

    from pipeline.models import StageChange

    assert StageChange.objects.exists()
    assert not StageChange.objects.exclude(owner=F("opportunity__owner")).exists()


@pytest.mark.django_db
def test_seed_demo_refuses_with_debug_off(settings):
    from django.core.management import CommandError, call_command

    settings.DEBUG = False
    with pytest.raises(CommandError, match="--force"):
        call_command("seed_demo")


@pytest.mark.django_db
def test_seed_demo_prints_a_summary_and_the_logins_not_emails(settings):
    from io import StringIO

    from django.core.management import call_command

    settings.DEBUG = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    out = StringIO()
    call_command("seed_demo", stdout=out)
    text = out.getvalue()
    assert "Subject:" not in text and "@coachcrm.example" not in text
    assert "Demo organisation:" in text and "accounts" in text
    assert "alice    / coachcrm-demo" in text
    assert len(text.splitlines()) < 12


@pytest.mark.django_db
def test_seed_demo_gives_alice_a_realistic_day(settings):
    from django.core.management import call_command
    from django.utils import timezone

    from agenda import selectors

    settings.DEBUG = True
    call_command("seed_demo")
    alice = User.objects.get(username="alice")
    sections = selectors.today(user=alice)["sections"]
    assert any(task.due_on < timezone.localdate() for task in sections["tasks"])  # overdue
    assert any(task.created_by.username == "manager" for task in sections["tasks"])  # assigned by her manager
    assert len(sections["touches"]) >= 2
    assert len(sections["handovers"]) >= 1
    assert len(sections["held_back"]) >= 1


@pytest.mark.django_db
def test_seed_demo_shows_every_case_of_the_coach_gate(settings):
    """Issue 15: a qualified coach, a verified one, an unverified informant, one expiring soon, deals to send back."""
    import datetime

    from django.core.management import call_command
    from django.utils import timezone

    from agenda import selectors as agenda_selectors
    from coaches.models import Coach
    from pipeline import services

    settings.DEBUG = True
    call_command("seed_demo")
    today = timezone.localdate()
    active = list(Coach.objects.active().select_related("contact"))
    verified = [c for c in active if not c.missing_for("verified")]
    qualified_only = [
        c for c in active if not c.missing_for("qualified") and c.missing_for("verified") == ["unverified"]
    ]
    informants = [
        c for c in active if c.strength == "informant" and c.last_verified_on is None and c.missing_for("qualified")
    ]
    expiring = [c for c in verified if today < c.verification_expires_on <= today + datetime.timedelta(days=7)]
    assert verified and qualified_only and informants and expiring
    holder = expiring[0].holders.get(is_primary=True).user
    assert expiring[0] in agenda_selectors.today(user=holder)["sections"]["verify"]
    first = services.gate_sweep()
    assert first.sent_back > 0 and sum(first.reasons.values()) == first.sent_back
    again = services.gate_sweep()
    assert (again.sent_back, again.reasons) == (0, {})
