"""The Simplified Chinese catalog is complete, and the committed .mo is compiled from the .po."""

import shutil
from contextlib import chdir
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command

LOCALE = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES"


def test_catalog_has_no_untranslated_or_fuzzy_entries():
    catalog = polib.pofile(str(LOCALE / "django.po"))
    untranslated = [entry.msgid for entry in catalog.untranslated_entries()]
    fuzzy = [entry.msgid for entry in catalog.fuzzy_entries()]
    assert untranslated == [], f"{len(untranslated)} untranslated, e.g. {untranslated[:5]}"
    assert fuzzy == [], f"{len(fuzzy)} fuzzy, e.g. {fuzzy[:5]}"


def test_committed_mo_matches_the_po():
    source = polib.pofile(str(LOCALE / "django.po"))
    compiled = polib.mofile(str(LOCALE / "django.mo"))

    def key(entry):
        return (entry.msgctxt or "", entry.msgid)

    def value(entry):
        return entry.msgstr or tuple(entry.msgstr_plural[k] for k in sorted(entry.msgstr_plural))

    expected = {key(e): value(e) for e in source.translated_entries()}
    actual = {key(e): value(e) for e in compiled if e.msgid}
    assert actual == expected, "locale/zh_Hans/LC_MESSAGES/django.mo is stale: run `make messages`"


def test_chinese_is_active_for_a_chinese_browser(client, rep):
    client.force_login(rep)
    page = client.get("/", headers={"accept-language": "zh-CN"}).content.decode()
    assert "退出登录" in page
    assert "Log out" not in page


def _left_to_translate(tree: Path, settings) -> list[str]:
    """What `make messages` run in `tree` leaves untranslated or fuzzy in its catalog (it rewrites that copy)."""
    settings.LOCALE_PATHS = [tree / "locale"]
    with chdir(tree):
        call_command("makemessages", locale=["zh_Hans"], no_obsolete=True, verbosity=0)
    catalog = polib.pofile(str(tree / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"))
    return sorted(entry.msgid for entry in catalog if not entry.translated() and not entry.obsolete)


@pytest.mark.gettext
def test_every_string_marked_in_the_code_is_translated_in_the_committed_catalog(tmp_path, settings):
    # makemessages writes its template work files beside the templates: it runs on a copy of
    # the project, whose catalog is the committed one (what it skips is PROJECT_IGNORE).
    tree = tmp_path / "project"
    shutil.copytree(
        settings.BASE_DIR,
        tree,
        ignore=shutil.ignore_patterns(
            ".*", "__pycache__", "tests", "bench", "staticfiles", "static", "tmp", "*.mo", "*.sqlite3*"
        ),
    )
    missing = _left_to_translate(tree, settings)
    assert missing == [], (
        f"{len(missing)} marked string(s) are missing or fuzzy in the catalog, e.g. {missing[:5]}: "
        "run `make messages`, translate them in locale/zh_Hans/LC_MESSAGES/django.po, run `make messages` again"
    )


@pytest.mark.gettext
def test_the_catalog_guard_finds_new_and_changed_strings(tmp_path, settings):
    shutil.copytree(LOCALE, tmp_path / "locale" / "zh_Hans" / "LC_MESSAGES")
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "page.html").write_text(
        '{% load i18n %}{% translate "Log out" %} {% translate "A sentence nobody has translated yet" %}'
    )
    # A changed msgid: msgmerge keeps the old translation as a fuzzy guess, which is not a translation.
    (tmp_path / "views.py").write_text('from django.utils.translation import gettext as _\n_("Log outs")\n')

    assert _left_to_translate(tmp_path, settings) == ["A sentence nobody has translated yet", "Log outs"]
