"""Every form control a patient uses has an edge they can see (WCAG 1.4.11, non-text contrast).

The browser works out the colours: each control's border, and the background it sits on (the
first ancestor with one that is not transparent). Their contrast must be 3:1 or more.
"""

import json
import re
from pathlib import Path
from typing import Any

import pytest
from factories import no_serious_violations
from playwright.sync_api import Page, expect

from intake import published
from intake.models import Draft, import_document

ROOT = Path(__file__).resolve().parents[2]
SKINPEN = ROOT / "intake" / "question_sets" / "skinpen.json"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CONTROLS = {
    "text box": "main input.form-control:not(.partial-date-day, .partial-date-month, "
    ".partial-date-year)",
    "date box": "main input.partial-date-day, main input.partial-date-month, "
    "main input.partial-date-year",
    "textarea": "main textarea",
    "radio": "main input[type=radio]",
    "checkbox": "main input[type=checkbox]",
}

# For each control: its border's width and colour, and the colour behind it.
EDGES = """
(controls) => controls.map((control) => {
  let behind = "rgb(255, 255, 255)";
  for (let node = control.parentElement; node; node = node.parentElement) {
    const colour = getComputedStyle(node).backgroundColor;
    if (!/^rgba\\(.*, 0\\)$/.test(colour) && colour !== "transparent") { behind = colour; break; }
  }
  const style = getComputedStyle(control);
  return {
    name: control.name,
    width: parseFloat(style.borderTopWidth),
    style: style.borderTopStyle,
    border: style.borderTopColor,
    behind: behind,
  };
})
"""


def rgb(colour: str) -> tuple[float, float, float, float]:
    """ "rgb(r, g, b)" or "rgba(r, g, b, a)" as numbers."""
    parts = [float(part) for part in re.findall(r"[\d.]+", colour)]
    assert len(parts) in (3, 4), colour
    return parts[0], parts[1], parts[2], parts[3] if len(parts) == 4 else 1.0


def luminance(red: float, green: float, blue: float) -> float:
    """WCAG relative luminance of an sRGB colour."""

    def linear(channel: float) -> float:
        value = channel / 255
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    return 0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue)


def contrast(front: str, back: str) -> float:
    """The contrast ratio of colour `front`, drawn over opaque `back`."""
    *under, _ = rgb(back)
    red, green, blue, alpha = rgb(front)
    over = [alpha * c + (1 - alpha) * u for c, u in zip((red, green, blue), under, strict=True)]
    lighter, darker = sorted((luminance(*over), luminance(*under)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def weak_edges(page: Page, kinds: list[str]) -> list[dict[str, Any]]:
    """The controls of these kinds on the page whose edge is too faint, or missing."""
    weak = []
    for kind in kinds:
        edges = page.eval_on_selector_all(CONTROLS[kind], EDGES)
        assert edges, f"no {kind} on {page.url}"
        for edge in edges:
            ratio = contrast(edge["border"], edge["behind"])
            if edge["width"] < 1 or edge["style"] == "none" or ratio < 3:
                weak.append({"kind": kind, "ratio": round(ratio, 2), **edge})
    return weak


def test_every_control_has_an_edge_at_three_to_one_against_its_background(
    browser, live_server
) -> None:
    version = import_document(json.loads(SKINPEN.read_text(encoding="utf-8")))
    version.install()
    steps = published.questionnaire(version).steps
    page = browser.new_page(viewport={"width": 390, "height": 844})
    base = live_server.url

    page.goto(base + "/")
    assert weak_edges(page, ["date box"]) == []
    no_serious_violations(page)
    page.get_by_role("button", name="Start the questionnaire").click()

    # Details: text boxes and date boxes.
    expect(page.locator("#step-count")).to_have_text(f"Step 1 of {len(steps)}")
    assert weak_edges(page, ["text box", "date box"]) == []
    page.get_by_label("Full name").fill("Ann Example")
    page.get_by_label("Email address").fill("ann@example.com")
    page.get_by_label("Phone number").fill("07700 900123")
    birth = page.get_by_role("group", name=re.compile("date of birth", re.IGNORECASE))
    birth.get_by_label("Day").fill("3")
    birth.get_by_label("Month").fill("4")
    birth.get_by_label("Year").fill("1990")
    page.get_by_role("button", name="Continue", exact=True).click()

    # About you: tick boxes.
    expect(page.locator("#step-count")).to_have_text(f"Step 2 of {len(steps)}")
    assert weak_edges(page, ["checkbox"]) == []

    # The last section: text areas, text boxes and radios, none of them answered yet.
    last = steps[-2]
    Draft.objects.update(steps_done=last.number - 1)
    page.goto(f"{base}/questionnaire/{last.number}/")
    expect(page.locator("#step-count")).to_have_text(f"Step {last.number} of {len(steps)}")
    assert weak_edges(page, ["textarea", "text box", "radio"]) == []
    no_serious_violations(page)

    # A focused control shows a strong outline as well as its edge.
    page.locator("main textarea").first.focus()
    outline = page.eval_on_selector(
        "main textarea",
        "(box) => { const s = getComputedStyle(box);"
        " return {style: s.outlineStyle, width: parseFloat(s.outlineWidth),"
        " colour: s.outlineColor}; }",
    )
    assert outline["style"] != "none" and outline["width"] >= 2
    assert contrast(outline["colour"], "rgb(255, 255, 255)") >= 3
    page.close()
