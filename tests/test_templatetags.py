from decimal import Decimal

from django.utils import translation

from coachcrm.templatetags.crm import money, percent


def test_money_groups_thousands_with_two_decimals(settings):
    settings.CRM_CURRENCY = "EUR"
    with translation.override("en"):
        assert money(Decimal("1234567.5")) == "1,234,567.50 EUR"
    assert money(None) == "—"


def test_percent_formats_a_ratio():
    with translation.override("en"):
        assert percent(Decimal("0.425"), 1) == "42.5%"
        assert percent(1) == "100%"
    assert percent(None) == "—"


def test_percent_rounds_half_up_rather_than_truncating():
    with translation.override("en"):
        assert percent(2 / 7) == "29%"  # 28.57…%, which truncation showed as 28%
        assert percent(0.285) == "29%"  # half up, though the float is 0.28499… in binary
        assert percent(Decimal("0.125")) == "13%"
        assert percent(Decimal("0.4249"), 1) == "42.5%"
        assert percent(Decimal("0.004")) == "0%"
        assert percent("0.5", "0") == "50%"


def test_money_in_chinese_groups_by_thousands_and_takes_the_deals_currency(settings):
    # Django's zh_Hans formats have no separator; coachcrm/formats/zh_Hans adds the comma.
    settings.CRM_CURRENCY = "EUR"
    with translation.override("zh-hans"):
        assert money(Decimal("65400")) == "65,400.00 EUR"
        assert money(Decimal("65400"), "CNY") == "65,400.00 CNY"
