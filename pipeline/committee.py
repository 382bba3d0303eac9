"""The committee map's geometry: where each person's box and each reporting line goes (the template only draws).

Pure arithmetic over `selectors.opportunity_committee`'s data, no queries. One column per role,
in `COMMITTEE_ROLES` order and `columns` roles to a row, its people stacked under its label; a
reporting line (a curve with an arrow) joins a person's box to his manager's when both are on it.
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
    """Boxes, role labels and reporting lines for an SVG `columns` role groups wide."""
    boxes, bands, at = [], [], {}
    groups = committee["groups"]
    top = PAD
    for start in range(0, len(groups), columns):
        tallest = 0
        for col, group in enumerate(groups[start : start + columns]):
            x = PAD + col * (BOX_W + GAP_X)
            bands.append({"label": _clip(group["label"], 30), "x": x, "y": top + 12})
            for index, person in enumerate(group["people"]):
                style, stance = person["style"], person["stance"]
                box = {
                    "person": person,
                    "x": x,
                    "y": top + HEADER + index * (BOX_H + GAP_Y),
                    "name": _clip(person["name"], 24),
                    "title": _clip(person["title"], 28),
                    "fill": STYLE_COLOURS[style["style"] if style else None],
                    "stance_colour": STANCE_COLOURS[stance["stance"] if stance else None],
                    "stance_mark": STANCE_MARKS[stance["stance"] if stance else None],
                    "holders": _clip(", ".join(person["holders"]), 18),
                }
                boxes.append(box)
                at[person["id"]] = box
            tallest = max(tallest, HEADER + len(group["people"]) * (BOX_H + GAP_Y))
        top += tallest + GAP_Y
    lines = []
    for line in committee["lines"]:
        child, boss = at[line["from"]], at[line["to"]]
        if boss["y"] + BOX_H <= child["y"]:
            # The manager above: from the top of the person's box up to the bottom of his.
            x1, y1, x2, y2 = child["x"] + BOX_W / 2, child["y"], boss["x"] + BOX_W / 2, boss["y"] + BOX_H
        elif child["y"] + BOX_H <= boss["y"]:
            # The manager drawn lower (a user reporting to an influencer): bottom to top.
            x1, y1, x2, y2 = child["x"] + BOX_W / 2, child["y"] + BOX_H, boss["x"] + BOX_W / 2, boss["y"]
        else:
            # Side by side: from side to side.
            left = boss["x"] < child["x"]
            x1, y1 = child["x"] + (0 if left else BOX_W), child["y"] + BOX_H / 2
            x2, y2 = boss["x"] + (BOX_W if left else 0), boss["y"] + BOX_H / 2
        vertical = abs(y2 - y1) >= abs(x2 - x1) / 2
        if vertical:
            mid = (y1 + y2) / 2
            path = f"M{x1} {y1} C{x1} {mid} {x2} {mid} {x2} {y2}"
        else:
            mid = (x1 + x2) / 2
            path = f"M{x1} {y1} C{mid} {y1} {mid} {y2} {x2} {y2}"
        lines.append({"path": path, "from": line["from"], "to": line["to"]})
    width = PAD * 2 + min(columns, max(len(groups), 1)) * (BOX_W + GAP_X) - GAP_X
    return {
        "width": width,
        # Drawn at most a third larger than its own size: a committee of one is not a poster.
        "max_width": round(width * 4 / 3),
        "height": top - GAP_Y + PAD,
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
