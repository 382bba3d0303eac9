"""The Simplified Chinese catalog is complete, and the committed .mo is compiled from the .po."""

from pathlib import Path

import polib
from django.conf import settings

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
