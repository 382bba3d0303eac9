"""The committee map's geometry: where each person's box and each reporting line goes (the template only draws).

Pure arithmetic over `selectors.opportunity_committee`'s data, no queries. One band per role,
top to bottom in `COMMITTEE_ROLES` order, people left to right in rows of `columns` boxes; a
reporting line joins a person's box to his manager's when both are on the committee.
"""

from coaches.models import BuyingStyle, Stance

BOX_W, BOX_H = 160, 66
GAP_X, GAP_Y = 10, 10
HEADER = 18  # the role's label above its band
PAD = 6

# Fill colours of the four buying styles (and unknown), the same in the map and its legend.
STYLE_COLOURS = {
    "driver": "#f8d7da",
    "analytical": "#cfe2ff",
    "expressive": "#fff3cd",
    "amiable": "#d1e7dd",
    None: "#f8f9fa",
}
STANCE_COLOURS = {"supporter": "#198754", "neutral": "#6c757d", "opponent": "#dc3545", None: "#adb5bd"}
STANCE_MARKS = {"supporter": "+", "neutral": "=", "opponent": "\u2212", None: "?"}


def _clip(text: str, size: int) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"


def committee_chart(committee: dict, *, columns: int) -> dict:
    """Boxes, band labels and reporting lines for an SVG `columns` boxes wide."""
    boxes, bands, at = [], [], {}
    y = PAD
    for group in committee["groups"]:
        bands.append({"label": group["label"], "y": y + 12})
        y += HEADER
        for index, person in enumerate(group["people"]):
            row, col = divmod(index, columns)
            x, top = PAD + col * (BOX_W + GAP_X), y + row * (BOX_H + GAP_Y)
            style, stance = person["style"], person["stance"]
            box = {
                "person": person,
                "x": x,
                "y": top,
                "name": _clip(person["name"], 24),
                "title": _clip(person["title"], 28),
                "fill": STYLE_COLOURS[style["style"] if style else None],
                "stance_colour": STANCE_COLOURS[stance["stance"] if stance else None],
                "stance_mark": STANCE_MARKS[stance["stance"] if stance else None],
                "holders": _clip(", ".join(person["holders"]), 18),
            }
            boxes.append(box)
            at[person["id"]] = box
        rows = (len(group["people"]) + columns - 1) // columns
        y += rows * (BOX_H + GAP_Y)
    lines = []
    for line in committee["lines"]:
        child, boss = at[line["from"]], at[line["to"]]
        # From the top of the person's box to the bottom of his manager's, or to the top when the
        # manager was drawn in a lower band (a user reporting to an influencer).
        x1, y1 = child["x"] + BOX_W / 2, child["y"]
        x2 = boss["x"] + BOX_W / 2
        y2 = boss["y"] + BOX_H if boss["y"] < child["y"] else boss["y"]
        if boss["y"] == child["y"]:
            # Side by side in one row: from side to side.
            y1 = y2 = child["y"] + BOX_H / 2
            x1 = child["x"] + (0 if boss["x"] < child["x"] else BOX_W)
            x2 = boss["x"] + (BOX_W if boss["x"] < child["x"] else 0)
        lines.append({"x1": x1, "y1": y1, "x2": x2, "y2": y2})
    return {
        "width": PAD * 2 + columns * BOX_W + (columns - 1) * GAP_X,
        "height": y + PAD,
        "boxes": boxes,
        "bands": bands,
        "lines": lines,
        "box_w": BOX_W,
        "box_h": BOX_H,
    }


def committee_legend() -> dict:
    """The style colours and stance marks, for the legend under the map."""

    return {
        "styles": [{"label": label, "fill": STYLE_COLOURS[value]} for value, label in BuyingStyle.choices],
        "stances": [
            {"label": label, "colour": STANCE_COLOURS[value], "mark": STANCE_MARKS[value]}
            for value, label in Stance.choices
        ],
    }
