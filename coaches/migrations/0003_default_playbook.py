"""The mirror playbook as shipped: one card per buying style, plus the card for an unknown style.

Admins edit the text afterwards; this only creates cards that do not exist yet.
"""

from django.db import migrations

# (style, in short, pace, detail, bring, ask, avoid, close)
DEFAULT_CARDS = [
    (
        "driver",
        "Speed up, lead with the result, and let them decide.",
        "Fast. Start on time, finish early; one meeting, one decision.",
        "Low. Headline figures and the outcome; keep the detail in an appendix they can ask for.",
        "A one-page summary: the result, the cost, the time to value, and two or three options with "
        "your recommendation.",
        "\"What result do you need, and by when?\" \"What would stop you deciding today?\" "
        "\"Who else has to agree?\"",
        "Small talk, long slide decks, hedging, making the decision for them, wasting their time "
        "with a process they did not ask for.",
        "Offer clear options and ask for the decision directly; confirm the next step in writing the "
        "same day.",
    ),
    (
        "analytical",
        "Slow down, bring the numbers, and give them time to check.",
        "Measured. Send the agenda and the material in advance; expect several rounds.",
        "High. Data, method, assumptions, references; every claim with its source.",
        "The business case with its calculation, technical documentation, a written comparison with "
        "the alternatives, references from similar customers, the implementation plan.",
        "\"Which criteria will you evaluate us on?\" \"What data would you need to be sure?\" "
        "\"What went wrong last time?\"",
        "Pressure and deadlines invented for the deal, exaggeration, enthusiasm instead of evidence, "
        "skipping over the risks.",
        "Summarise the evidence against their criteria, name the risks and how they are handled, and "
        "propose a decision date they set themselves.",
    ),
    (
        "expressive",
        "Share the vision, make it personal, and keep the detail short.",
        "Lively. Let the conversation range; keep the meeting energetic and leave room for ideas.",
        "Low to medium: the big picture, stories and testimonials; the detail goes to their team.",
        "The vision of where they will be, stories of well-known customers, a demo that shows the "
        "experience, and who else in the industry is doing it.",
        "\"What would success look like for you?\" \"Who should see this?\" \"What excites you most "
        "about the change?\"",
        "Dry walkthroughs of specifications, cutting them off, ignoring their ideas, leaving the "
        "follow-up vague (they forget the detail).",
        "Tie the decision to their vision and their recognition, agree on the next step in the "
        "meeting, then pin it down in writing with their team.",
    ),
    (
        "amiable",
        "Slow down, build the relationship, and make it safe for everyone.",
        "Patient. Take time for the person; do not rush to the agenda.",
        "Medium: how it works for the people affected, the support they will get, the plan step by step.",
        "References they can call, the support and training plan, guarantees, a pilot, and how their "
        "colleagues will be involved.",
        "\"Who else should be part of this?\" \"What worries your team about the change?\" \"How can "
        "we make this easy for you?\"",
        "Pushing for a quick decision, conflict, being impersonal, leaving them alone with the risk.",
        "Reduce the risk (pilot, guarantee, phased plan), bring the people they trust into it, and "
        "ask for the decision gently, with time to consult.",
    ),
    (
        "unknown",
        "We do not know how this person buys yet: ask the coach before the next meeting.",
        "Keep to a neutral, prepared pace until you know more.",
        "Have both the summary and the detail ready; watch which one they reach for.",
        "A short summary with the detail behind it, and a question list for the coach.",
        "Ask the coach: \"How does he make decisions — fast and alone, or after studying the data?\" "
        "\"Does she want the big picture or the detail?\" \"How do they like meetings — to the point, "
        "or relationship first?\" \"What annoyed them about the last supplier?\" \"Who do they trust?\"",
        "Guessing the style from a single meeting; mirroring your own style back at them.",
        "Do not push for a close yet; get a style report from the coach first.",
    ),
]


def create_cards(apps, schema_editor):
    PlaybookCard = apps.get_model("coaches", "PlaybookCard")
    for style, in_short, pace, detail, bring, ask, avoid, close in DEFAULT_CARDS:
        PlaybookCard.objects.get_or_create(
            style=style,
            defaults={
                "in_short": in_short,
                "pace": pace,
                "detail": detail,
                "bring": bring,
                "ask": ask,
                "avoid": avoid,
                "close": close,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("coaches", "0002_styles_playbook_moves")]

    operations = [migrations.RunPython(create_cards, migrations.RunPython.noop)]
