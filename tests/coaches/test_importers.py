import datetime

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from coaches.models import Coach
from csvio import services
from csvio.models import ImportBatch
from tests import factories

HEADER = "contact_email,account,strength,credible,trusts_us,wants_us_to_win,has_power,established_on,holders\n"


def _upload(user, text):
    return services.import_batch_create(by=user, kind="coaches", filename="coaches.csv", data=text.encode())


def _outcomes(batch):
    return [(r["line"], r["outcome"], r["column"]) for r in batch.report["rows"]]


@pytest.fixture
def acme(rep):
    return factories.AccountFactory(owner=rep, name="Acme Ltd")


def test_dry_run_reports_each_row_and_writes_nothing(rep, other_rep, acme):
    ann = factories.person_at(acme, contact__email="ann@acme.example")
    factories.person_at(acme, contact__email="bob@acme.example")
    held = factories.CoachFactory(account=acme, holder=rep)
    elsewhere = factories.person_at(
        factories.AccountFactory(owner=rep, name="Other"), contact__email="cy@other.example"
    )
    text = HEADER + (
        "ann@acme.example,ACME,champion,yes,yes,no,no,2024-03-01,\n"  # created
        f"{held.contact.email},Acme,coach,,,,,,\n"  # duplicate: already our active coach there
        "ANN@acme.example,Acme,coach,,,,,,\n"  # duplicate of line 2
        f"{elsewhere.email},Acme,coach,,,,,,\n"  # error: not at the account
        "bob@acme.example,Acme,coach,,,,,,nobody\n"  # error: unknown holder
        "bob@acme.example,Acme,guru,,,,,,\n"  # error: strength
        "dan@nowhere.example,Acme,coach,,,,,,\n"  # error: unknown person
        "bob@acme.example,Acme,coach,maybe,,,,,\n"  # error: yes/no
    )
    batch = _upload(rep, text)
    assert _outcomes(batch) == [
        (2, "created", ""),
        (3, "duplicate", ""),
        (4, "duplicate", ""),
        (5, "error", "account"),
        (6, "error", "holders"),
        (7, "error", "strength"),
        (8, "error", "contact_email"),
        (9, "error", "credible"),
    ]
    details = [r["detail"] for r in batch.report["rows"]]
    assert "does not currently work at Acme Ltd" in details[3]
    assert "nobody is not an active user" in details[4]
    assert Coach.objects.filter(contact=ann).count() == 0
    assert Coach.objects.count() == 1


def test_confirm_records_coaches_with_criteria_and_holders(rep, other_rep, acme):
    ann = factories.person_at(acme, contact__email="ann@acme.example")
    text = (
        HEADER + f"ann@acme.example,Acme Ltd,champion,yes,yes,yes,no,2024-03-01,{other_rep.username};{rep.username}\n"
    )
    batch = services.import_batch_confirm(batch=_upload(rep, text), by=rep)
    assert batch.status == ImportBatch.Status.IMPORTED
    coach = Coach.objects.get(contact=ann)
    assert (coach.account, coach.strength, coach.established_on) == (acme, "champion", datetime.date(2024, 3, 1))
    assert (coach.credible, coach.trusts_us, coach.wants_us_to_win, coach.has_power) == (True, True, True, False)
    holders = {h.user: h.is_primary for h in coach.holders.all()}
    assert holders == {other_rep: True, rep: False}
    assert coach.history.count() >= 1


def test_holders_default_to_the_importing_user(rep, acme):
    factories.person_at(acme, contact__email="ann@acme.example")
    services.import_batch_confirm(batch=_upload(rep, "contact_email,account\nann@acme.example,Acme\n"), by=rep)
    coach = Coach.objects.get()
    assert [(h.user, h.is_primary) for h in coach.holders.all()] == [(rep, True)]
    assert (coach.strength, coach.established_on, coach.credible) == ("coach", timezone.localdate(), False)


def test_a_rep_must_hold_the_coaches_he_imports(rep, other_rep, acme):
    factories.person_at(acme, contact__email="ann@acme.example")
    batch = _upload(rep, f"contact_email,account,holders\nann@acme.example,Acme,{other_rep.username}\n")
    assert _outcomes(batch) == [(2, "error", "holders")]


def test_a_manager_may_import_coaches_for_his_reps(manager, rep, acme):
    factories.person_at(acme, contact__email="ann@acme.example")
    batch = _upload(manager, f"contact_email,account,holders\nann@acme.example,Acme,{rep.username}\n")
    services.import_batch_confirm(batch=batch, by=manager)
    assert [h.user for h in Coach.objects.get().holders.all()] == [rep]


def test_a_bad_row_blocks_the_confirmed_import(rep, acme):
    factories.person_at(acme, contact__email="ann@acme.example")
    factories.person_at(factories.AccountFactory(owner=rep, name="Other"), contact__email="bob@other.example")
    text = "contact_email,account\nann@acme.example,Acme\nbob@other.example,Acme\n"
    batch = services.import_batch_confirm(batch=_upload(rep, text), by=rep)
    assert batch.status == ImportBatch.Status.PENDING
    assert Coach.objects.count() == 0


def test_a_row_refused_at_confirm_rolls_back_every_row(rep, acme):
    """Someone recorded the coach elsewhere between the dry run and the confirmation: nothing is kept."""
    factories.person_at(acme, contact__email="ann@acme.example")
    bob = factories.person_at(acme, contact__email="bob@acme.example")
    batch = _upload(rep, "contact_email,account\nann@acme.example,Acme\nbob@acme.example,Acme\n")
    factories.CoachFactory(account=factories.AccountFactory(owner=rep, name="Elsewhere"), contact=bob)
    batch = services.import_batch_confirm(batch=batch, by=rep)
    assert batch.status == ImportBatch.Status.PENDING
    assert batch.report["rows"][1]["outcome"] == "error"
    assert batch.report["rows"][1]["column"] == "contact_email"
    assert "already our active coach" in batch.report["rows"][1]["detail"]
    assert not Coach.objects.filter(contact__email="ann@acme.example").exists()


def test_an_active_coach_at_another_account_is_an_error(rep, acme):
    ann = factories.person_at(acme, contact__email="ann@acme.example")
    factories.CoachFactory(account=factories.AccountFactory(owner=rep, name="Old"), contact=ann)
    batch = _upload(rep, "contact_email,account\nann@acme.example,Acme\n")
    assert _outcomes(batch) == [(2, "error", "contact_email")]
    assert "already our active coach at Old" in batch.report["rows"][0]["detail"]


def test_people_and_accounts_out_of_scope_are_unknown(rep, other_rep):
    theirs = factories.AccountFactory(owner=other_rep, name="Theirs")
    factories.person_at(theirs, contact__email="zed@theirs.example")
    batch = _upload(rep, "contact_email,account\nzed@theirs.example,Theirs\n")
    assert _outcomes(batch) == [(2, "error", "contact_email")]


def test_future_established_date_is_an_error(rep, acme):
    factories.person_at(acme, contact__email="ann@acme.example")
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    batch = _upload(rep, f"contact_email,account,established_on\nann@acme.example,Acme,{tomorrow}\n")
    assert _outcomes(batch) == [(2, "error", "established_on")]


def test_reads_bom_semicolons_and_headers_in_any_order(rep, other_rep, acme):
    factories.person_at(acme, contact__email="ann@acme.example")
    holders = f"{rep.username};{other_rep.username}"
    text = f'\ufeffHolders;Has power;Account;E-mail;Strength\n"{holders}";Yes;Acme;ann@acme.example;Champion\n'
    batch = _upload(rep, text)
    assert _outcomes(batch) == [(2, "created", "")]
    services.import_batch_confirm(batch=batch, by=rep)
    coach = Coach.objects.get()
    assert (coach.strength, coach.has_power, coach.holders.count()) == ("champion", True, 2)


def test_export_imports_back(rep_client, rep, other_rep, acme):
    """Export, end nothing, import into a fresh copy: every active coach comes back with its holders."""
    coach = factories.CoachFactory(account=acme, holder=rep, strength="champion", has_power=True)
    factories.HolderFactory(coach=coach, user=other_rep)
    body = b"".join(rep_client.get(reverse("coaches:coach-export")).streaming_content)
    # The same file against CoachCRM as it is: the coach is already there.
    assert _outcomes(_upload(rep, body.decode("utf-8-sig"))) == [(2, "duplicate", "")]
    Coach.objects.all().delete()  # holders cascade; the person still works at Acme
    batch = services.import_batch_confirm(batch=_upload(rep, body.decode("utf-8-sig")), by=rep)
    assert batch.status == ImportBatch.Status.IMPORTED, batch.report
    back = Coach.objects.get()
    assert (back.contact, back.account, back.strength, back.has_power, back.credible) == (
        coach.contact,
        acme,
        "champion",
        True,
        True,
    )
    assert back.established_on == coach.established_on
    assert {(h.user, h.is_primary) for h in back.holders.all()} == {(rep, True), (other_rep, False)}


def test_lapsed_rows_of_an_export_are_refused(rep, acme):
    factories.person_at(acme, contact__email="ann@acme.example")
    batch = _upload(rep, "contact_email,account,status\nann@acme.example,Acme,lapsed\n")
    assert _outcomes(batch) == [(2, "error", "status")]


def test_import_csv_command_dry_run_and_commit(rep, acme, tmp_path, capsys):
    factories.person_at(acme, contact__email="ann@acme.example")
    path = tmp_path / "coaches.csv"
    path.write_text("contact_email,account,strength\nann@acme.example,Acme,informant\n")
    call_command("import_csv", "coaches", str(path), "--user", rep.username)
    assert "Dry run, nothing written: 1 created" in capsys.readouterr().out
    assert not Coach.objects.exists()
    call_command("import_csv", "coaches", str(path), "--commit", "--user", rep.username)
    assert Coach.objects.get().strength == "informant"


def test_import_csv_command_refuses_a_bad_file(rep, acme, tmp_path, capsys):
    path = tmp_path / "coaches.csv"
    path.write_text("contact_email,account\nghost@acme.example,Acme\n")
    with pytest.raises(CommandError, match="Nothing imported"):
        call_command("import_csv", "coaches", str(path), "--commit", "--user", rep.username)
    assert "line 2: error [contact_email]" in capsys.readouterr().out
    assert not Coach.objects.exists()


def test_coach_list_links_to_the_coach_import(rep_client):
    response = rep_client.get(reverse("coaches:coach-list"))
    assert reverse("csvio:import-create", args=["coaches"]) in response.content.decode()
    assert rep_client.get(reverse("csvio:import-create", args=["coaches"])).status_code == 200


@pytest.mark.parametrize("rows", [1, 50])
def test_dry_run_query_count_does_not_grow_with_rows(rep, acme, rows, django_assert_num_queries):
    # prepare() loads accounts, people, positions, active coaches and users in bulk: no lookups per row.
    lines = []
    for n in range(rows):
        factories.person_at(acme, contact__email=f"p{n}@acme.example")
        lines.append(f"p{n}@acme.example,Acme,coach,yes,,,,,{rep.username}")
    text = "contact_email,account,strength,credible,trusts_us,wants_us_to_win,has_power,established_on,holders\n"
    with django_assert_num_queries(9):
        batch = _upload(rep, text + "\n".join(lines))
    assert batch.report["counts"]["created"] == rows
