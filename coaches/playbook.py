# ruff: noqa: E501 -- each text is one catalog msgid, kept whole so it reads like the migration it mirrors.
"""The mirror playbook's default texts, marked for translation.

Migration 0003 stores these texts in English; a card whose stored text is still the default is
shown in the reader's language (`{% translate card.pace %}`), an edited one as the admin typed it.
"""

from django.utils.translation import gettext_noop

# (style, in short, pace, detail, bring, ask, avoid, close): the same as migration 0003.
DEFAULT_CARDS = [
    (
        "driver",
        gettext_noop("Speed up, lead with the result, and let them decide."),
        gettext_noop("Fast. Start on time, finish early; one meeting, one decision."),
        gettext_noop("Low. Headline figures and the outcome; keep the detail in an appendix they can ask for."),
        gettext_noop(
            "A one-page summary: the result, the cost, the time to value, and two or three options with your recommendation."
        ),
        gettext_noop(
            '"What result do you need, and by when?" "What would stop you deciding today?" "Who else has to agree?"'
        ),
        gettext_noop(
            "Small talk, long slide decks, hedging, making the decision for them, wasting their time with a process they did not ask for."
        ),
        gettext_noop(
            "Offer clear options and ask for the decision directly; confirm the next step in writing the same day."
        ),
    ),
    (
        "analytical",
        gettext_noop("Slow down, bring the numbers, and give them time to check."),
        gettext_noop("Measured. Send the agenda and the material in advance; expect several rounds."),
        gettext_noop("High. Data, method, assumptions, references; every claim with its source."),
        gettext_noop(
            "The business case with its calculation, technical documentation, a written comparison with the alternatives, references from similar customers, the implementation plan."
        ),
        gettext_noop(
            '"Which criteria will you evaluate us on?" "What data would you need to be sure?" "What went wrong last time?"'
        ),
        gettext_noop(
            "Pressure and deadlines invented for the deal, exaggeration, enthusiasm instead of evidence, skipping over the risks."
        ),
        gettext_noop(
            "Summarise the evidence against their criteria, name the risks and how they are handled, and propose a decision date they set themselves."
        ),
    ),
    (
        "expressive",
        gettext_noop("Share the vision, make it personal, and keep the detail short."),
        gettext_noop("Lively. Let the conversation range; keep the meeting energetic and leave room for ideas."),
        gettext_noop("Low to medium: the big picture, stories and testimonials; the detail goes to their team."),
        gettext_noop(
            "The vision of where they will be, stories of well-known customers, a demo that shows the experience, and who else in the industry is doing it."
        ),
        gettext_noop(
            '"What would success look like for you?" "Who should see this?" "What excites you most about the change?"'
        ),
        gettext_noop(
            "Dry walkthroughs of specifications, cutting them off, ignoring their ideas, leaving the follow-up vague (they forget the detail)."
        ),
        gettext_noop(
            "Tie the decision to their vision and their recognition, agree on the next step in the meeting, then pin it down in writing with their team."
        ),
    ),
    (
        "amiable",
        gettext_noop("Slow down, build the relationship, and make it safe for everyone."),
        gettext_noop("Patient. Take time for the person; do not rush to the agenda."),
        gettext_noop("Medium: how it works for the people affected, the support they will get, the plan step by step."),
        gettext_noop(
            "References they can call, the support and training plan, guarantees, a pilot, and how their colleagues will be involved."
        ),
        gettext_noop(
            '"Who else should be part of this?" "What worries your team about the change?" "How can we make this easy for you?"'
        ),
        gettext_noop("Pushing for a quick decision, conflict, being impersonal, leaving them alone with the risk."),
        gettext_noop(
            "Reduce the risk (pilot, guarantee, phased plan), bring the people they trust into it, and ask for the decision gently, with time to consult."
        ),
    ),
    (
        "unknown",
        gettext_noop("We do not know how this person buys yet: ask the coach before the next meeting."),
        gettext_noop("Keep to a neutral, prepared pace until you know more."),
        gettext_noop("Have both the summary and the detail ready; watch which one they reach for."),
        gettext_noop("A short summary with the detail behind it, and a question list for the coach."),
        gettext_noop(
            'Ask the coach: "How does he make decisions — fast and alone, or after studying the data?" "Does she want the big picture or the detail?" "How do they like meetings — to the point, or relationship first?" "What annoyed them about the last supplier?" "Who do they trust?"'
        ),
        gettext_noop("Guessing the style from a single meeting; mirroring your own style back at them."),
        gettext_noop("Do not push for a close yet; get a style report from the coach first."),
    ),
]
