"""Chart legends stand clear of the axis titles and tick labels (a student read "tex1t" where the
data view's legend sat on its x1 title, and the epoch chart's legend on its "epoch" title)."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

BOXES = """(sel) => {
  const root = document.querySelector(sel);
  const box = (e) => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
  return {
    legend: [...root.querySelectorAll('g.legend g.traces')].map(box),
    titles: [...root.querySelectorAll('text.xtitle, text.ytitle, text.y2title')].map(box),
    ticks: [...root.querySelectorAll('g.xtick text, g.ytick text, g.y2tick text')].map(box),
  };
}"""


def overlaps(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@pytest.mark.parametrize("width", [1400, 1024])
def test_legends_do_not_cover_axis_titles_or_ticks(lab, width):
    page, watch = lab
    page.set_viewport_size({"width": width, "height": 1000})
    page.goto(page.url.split("?")[0] + "?data=spiral")
    page.wait_for_selector("body[data-session]:not([data-session=''])", timeout=15000)
    page.click('button[data-action="epoch"]')
    page.wait_for_selector('#chart-epoch[data-points="1"]', timeout=15000)
    page.wait_for_selector('#dataview g.legend g.traces', timeout=15000)
    for sel, entries in (("#dataview", 2), ("#chart-epoch", 4)):
        page.locator(sel).scroll_into_view_if_needed()
        b = page.evaluate(BOXES, sel)
        assert len(b["legend"]) == entries and b["titles"] and b["ticks"], (sel, b)
        for entry in b["legend"]:
            for other in b["titles"] + b["ticks"]:
                assert not overlaps(entry, other), (sel, entry, other)
        for i, entry in enumerate(b["legend"]):            # nor one entry another
            assert not any(overlaps(entry, e) for e in b["legend"][i + 1:]), (sel, b["legend"])
    assert watch.errors == []
