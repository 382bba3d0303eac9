import pytest

from accounts.models import normalize_company_name


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Acme Ltd", "acme"),
        ("ACME  Ltd.", "acme"),
        ("The Acme Company", "acme"),
        ("Acme GmbH & Co. KG", "acme"),
        ("\uff21\uff43\uff4d\uff45 Inc", "acme"),  # full-width letters
        ("阿里巴巴有限公司", "阿里巴巴"),
        ("Co", "co"),
        ("Delta Retail", "delta retail"),
    ],
)
def test_normalize_company_name_ignores_case_spacing_and_legal_form(name, expected):
    assert normalize_company_name(name) == expected


def test_normalize_company_name_keeps_different_companies_apart():
    assert normalize_company_name("Acme Tools") != normalize_company_name("Acme Foods")
