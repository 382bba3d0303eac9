"""Every piece of user-facing text in a template is marked for translation."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.template.base import Lexer, TokenType

TEMPLATE_DIRS = [Path(settings.BASE_DIR) / "templates"]
# Words that are the same in every language (the product's name, units).
ALLOWED = {"CoachCRM", "CSV", "API", "OpenAPI", "htmx"}
ATTRIBUTE = re.compile(r'\b(?:placeholder|title|aria-label|alt|data-confirm)="([^"{]*)"')
TAG = re.compile(r"<[^>]*>")
SCRIPT = re.compile(r"<(script|style)\b.*?</\1>", re.S)
WORD = re.compile(r"[A-Za-z]{2,}")


def _untranslated(path: Path) -> list[str]:
    """The unmarked words of a template: its plain text with tags and template code removed."""
    pieces = []
    inside_translation = 0
    for token in Lexer(path.read_text()).tokenize():
        if token.token_type == TokenType.BLOCK:
            name = token.contents.split()[0]
            if name in {"blocktranslate", "blocktrans"}:
                inside_translation += 1
            elif name in {"endblocktranslate", "endblocktrans"}:
                inside_translation -= 1
        if token.token_type == TokenType.TEXT and not inside_translation:
            pieces.append(token.contents)
        else:
            # Template code stands in for a value: it keeps an HTML tag whole around it.
            pieces.append("\x00")
    text = SCRIPT.sub(" ", "".join(pieces))
    problems = [
        f"attribute {value!r}"
        for value in ATTRIBUTE.findall(text)
        if any(word not in ALLOWED for word in WORD.findall(value))
    ]
    visible = re.sub(r"&\w+;", " ", TAG.sub("\x00", text))
    for run in visible.split("\x00"):
        if any(word not in ALLOWED for word in WORD.findall(run)):
            problems.append(" ".join(run.split())[:80])
    return problems


TEMPLATES = sorted(p for d in TEMPLATE_DIRS for p in d.rglob("*.html"))


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(settings.BASE_DIR)))
def test_template_text_is_marked_for_translation(path):
    assert _untranslated(path) == []


def test_the_checker_catches_unmarked_text(tmp_path):
    sample = tmp_path / "sample.html"
    sample.write_text(
        '{% load i18n %}<h1>{% translate "Fine" %}</h1><p>Not marked</p>'
        '<input placeholder="Search here">{% blocktranslate %}Also fine{% endblocktranslate %}'
    )
    problems = _untranslated(sample)
    assert len(problems) == 2
    assert "Not marked" in problems[0] or "Not marked" in problems[1]
