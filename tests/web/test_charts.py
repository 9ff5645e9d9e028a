"""Charts: the geometry (pure) and the SVG and table the macro draws from it."""

from __future__ import annotations

import itertools
import math
from typing import Any

import pytest
from lxml import etree, html

from app.web import charts
from app.web.charts import VIEW_WIDTH, bar_chart, nice_ticks, text_width, time_series
from app.web.i18n import Text
from app.web.templating import templates

SVG = "{http://www.w3.org/2000/svg}"


def drawn(chart: Any, lang: str = "zh", **options: Any) -> Any:
    """The macro's markup for ``chart`` as an HTML tree."""
    template = templates.env.from_string(
        '{% from "_charts.html" import chart %}{{ chart(c, **options) }}'
    )
    return html.fromstring(template.render(c=chart, options=options, lang=lang))


def svg_of(chart: Any) -> Any:
    """The chart's image, parsed as XML (it must be well-formed on its own)."""
    (svg,) = drawn(chart).xpath("//svg[@role='img']")
    return etree.fromstring(html.tostring(svg))


# --- bar charts ------------------------------------------------------------------------------


def test_bars_are_as_long_as_their_values_and_the_largest_fills_the_room() -> None:
    chart = bar_chart([("工学", 400), ("理学", 200), ("农学", 0)], title="课程")
    long, half, zero = chart.bars
    assert half.width == pytest.approx(long.width / 2)
    assert zero.width == 0
    widest = max(text_width(bar.text, charts.SMALL) for bar in chart.bars)
    assert long.value_x + widest <= VIEW_WIDTH, "every value is written inside the chart"


def test_a_small_count_beside_a_large_one_still_shows_a_bar() -> None:
    chart = bar_chart([("a", 1_000_000), ("b", 1)], title="t")
    assert chart.bars[1].width >= 2


def test_each_bar_writes_its_value_with_the_unit_in_the_numbers_format() -> None:
    chart = bar_chart([("a", 12345), ("b", 0.5)], title="t", unit="%")
    assert [bar.text for bar in chart.bars] == ["12,345%", "0.50%"]
    words = bar_chart([("a", 3)], title="t", unit="门", format=lambda v: f"<{v:g}>")
    assert words.bars[0].text == "<3> 门"


def test_bars_go_down_the_chart_in_the_order_given_without_overlapping() -> None:
    chart = bar_chart([(f"学科 {n}", n) for n in range(1, 8)], title="t")
    tops = [bar.y for bar in chart.bars]
    assert tops == sorted(tops)
    for upper, lower in zip(chart.bars, chart.bars[1:], strict=False):
        assert upper.y + chart.bar_height < lower.label_y - charts.FONT
    assert chart.height >= chart.bars[-1].y + chart.bar_height


def test_a_label_too_long_for_the_chart_is_shortened_and_kept_whole_for_the_table() -> None:
    name = "中华人民共和国教育部直属综合性研究型全国重点大学继续教育学院在线课程中心" * 2
    (bar,) = bar_chart([(name, 3)], title="t").bars
    assert bar.shown.endswith("…")
    assert text_width(bar.shown) <= VIEW_WIDTH
    assert bar.label.text == name


def test_labels_keep_their_language() -> None:
    (bar,) = bar_chart([(Text("Donghu University", "en"), 3)], title="t").bars
    assert bar.label == charts.Label("Donghu University", "en")


def test_links_belong_to_their_bars() -> None:
    chart = bar_chart([("a", 1), ("b", 2)], title="t", links=["/search?level=a", None])
    assert [bar.href for bar in chart.bars] == ["/search?level=a", None]
    with pytest.raises(ValueError, match="more links"):
        bar_chart([("a", 1)], title="t", links=["/x", "/y"])


@pytest.mark.parametrize("value", [-1, math.nan, math.inf])
def test_a_value_that_is_no_count_is_refused(value: float) -> None:
    with pytest.raises(ValueError, match="zero or more"):
        bar_chart([("a", value)], title="t")
    with pytest.raises(ValueError, match="zero or more"):
        time_series([("2026-01", {"n": value})], title="t", series=["n"])


def test_the_description_reads_the_numbers_and_ids_differ_between_charts() -> None:
    chart = bar_chart([("工学", 1200), ("理学", 3)], title="按门类")
    assert chart.description == "工学: 1,200; 理学: 3"
    assert chart.id != bar_chart([("工学", 1200)], title="按门类").id
    assert chart.id == bar_chart([("工学", 1200), ("理学", 3)], title="按门类").id


def test_an_empty_bar_chart_is_empty() -> None:
    chart = bar_chart([], title="t")
    assert chart.empty
    assert chart.height > 0


# --- ticks -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("top", "ticks"),
    [
        (0, [0, 1]),
        (1, [0, 0.2, 0.4, 0.6, 0.8, 1.0]),
        (3, [0, 1, 2, 3]),
        (12, [0, 5, 10, 15]),
        (97, [0, 20, 40, 60, 80, 100]),
        (1000, [0, 200, 400, 600, 800, 1000]),
        (123_456, [0, 50_000, 100_000, 150_000]),
    ],
)
def test_axis_ticks_are_round_and_reach_the_top(top: float, ticks: list[float]) -> None:
    assert nice_ticks(top) == pytest.approx(ticks)


# --- time series -----------------------------------------------------------------------------

RUNS = [
    ("2026-01", {"added": 120, "updated": 30, "deleted": 2}),
    ("2026-02", {"added": 40, "updated": 60}),
    ("2026-03", {"added": 0, "updated": 10, "deleted": 8}),
]
KEYS = ["added", "updated", "deleted"]


def test_grouped_columns_stand_side_by_side_in_their_band_on_the_baseline() -> None:
    chart = time_series(RUNS, title="每次采集", series=KEYS)
    assert [len(point.marks) for point in chart.points] == [3, 3, 3]
    first = chart.points[0].marks
    assert [m.series for m in first] == [0, 1, 2]
    assert first[0].x + first[0].width <= first[1].x + 0.01
    for point in chart.points:
        for mark in point.marks:
            assert mark.y + mark.height == pytest.approx(chart.plot_bottom)
            assert chart.plot_left <= mark.x and mark.x + mark.width <= chart.width + 0.01
    heights = {m.value: m.height for p in chart.points for m in p.marks}
    assert heights[60] == pytest.approx(2 * heights[30], rel=0.01)
    assert heights[0] == 0
    # The axis reaches past the largest value (120 → 150 here): no column leaves the plot.
    assert chart.ticks[-1].value >= 120
    assert chart.ticks[-1].y >= chart.plot_top


def test_a_key_a_point_lacks_counts_zero_and_the_table_has_every_value() -> None:
    chart = time_series(RUNS, title="t", series=KEYS, names={"added": "新增"})
    assert chart.points[1].values == ("40", "60", "0")
    assert [s.name for s in chart.series] == ["新增", "updated", "deleted"]


def test_stacked_columns_add_up_to_the_total_written_above() -> None:
    chart = time_series(RUNS, title="t", series=KEYS, style="stacked")
    first = chart.points[0]
    bottom = first.marks[0].y + first.marks[0].height
    assert bottom == pytest.approx(chart.plot_bottom)
    for lower, upper in zip(first.marks, first.marks[1:], strict=False):
        assert upper.y + upper.height == pytest.approx(lower.y)
    assert first.total == "152"
    assert first.total_y < first.marks[-1].y


def test_lines_have_a_point_per_x_and_a_style_per_series() -> None:
    chart = time_series(RUNS, title="t", series=KEYS, style="lines")
    assert [len(s.path.split()) for s in chart.series] == [3, 3, 3]
    assert len({s.style for s in chart.series}) == 3
    single = time_series([("a", {"q": 0.5}), ("b", {"q": 0.75})], title="t", series=["q"],
                         style="lines", y_max=1)  # fmt: skip
    assert all(mark.label for point in single.points for mark in point.marks)
    assert single.ticks[-1].value == 1
    assert single.points[1].marks[0].y == pytest.approx(
        single.plot_bottom - 0.75 * (single.plot_bottom - single.plot_top)
    )


def test_a_crowded_axis_writes_every_nth_label_and_none_overlap_or_leave_the_chart() -> None:
    months = [(f"{2020 + m // 12}-{m % 12 + 1:02d}", {"n": m}) for m in range(60)]
    chart = time_series(months, title="t", series=["n"])
    shown = [p for p in chart.points if p.shown]
    assert 2 < len(shown) < 60
    width = text_width("2020-01", charts.SMALL)
    for left, right in itertools.pairwise(shown):
        assert right.x - left.x >= width
    last = shown[-1]
    end = last.label_x if last.anchor == "end" else last.label_x + width / 2
    assert end <= VIEW_WIDTH
    assert not any(m.label for p in chart.points for m in p.marks), "no room to write values"


def test_many_series_wrap_the_legend_and_cycle_their_styles() -> None:
    keys = [f"series number {n}" for n in range(8)]
    chart = time_series([("x", dict.fromkeys(keys, 1))], title="t", series=keys)
    assert {y for _, _, y in chart.legend} != {0.0}, "the legend takes more than one row"
    assert all(x + text_width(s.name, charts.SMALL) + 22 <= VIEW_WIDTH for s, x, _ in chart.legend)
    assert [s.style for s in chart.series] == [0, 1, 2, 3, 4, 5, 0, 1]
    assert chart.plot_top > chart.legend[-1][2]


def test_a_time_series_needs_a_series() -> None:
    with pytest.raises(ValueError, match="at least one series"):
        time_series(RUNS, title="t", series=[])


# --- the macro -------------------------------------------------------------------------------


def test_a_bar_chart_is_an_svg_image_with_title_description_and_a_table_of_links() -> None:
    chart = bar_chart(
        [("工学", 1200), (Text("Donghu University", "en"), 3)],
        title="按门类",
        links=["/search?subject=08", "/search?institution=donghu"],
        label_heading="门类",
        value_heading="课程",
    )
    tree = drawn(chart)
    (svg,) = tree.xpath("//svg[@role='img']")
    assert svg.get("viewbox") or svg.get("viewBox")
    title_id, desc_id = svg.get("aria-labelledby"), svg.get("aria-describedby")
    assert tree.xpath(f"//*[@id='{title_id}']")[0].text == "按门类"
    assert "工学: 1,200" in tree.xpath(f"//*[@id='{desc_id}']")[0].text
    assert [t.text_content() for t in svg.xpath(".//text[@class='value']")] == ["1,200", "3"]
    # An image holds no controls: the bars' links are a layer of their own over it, for a
    # mouse or a finger, hidden from assistive technology and out of the tab order; the
    # table's links are the same searches, for everyone.
    assert not svg.xpath(".//a")
    (hits,) = tree.xpath("//svg[@aria-hidden='true']")
    assert hits.get("viewbox") == svg.get("viewbox")
    assert [a.get("tabindex") for a in hits.xpath(".//a")] == ["-1", "-1"]
    assert hits.xpath(".//a/@href") == ["/search?subject=08", "/search?institution=donghu"]
    rows = tree.xpath("//table//tbody/tr")
    assert [r.xpath("string(th/a/@href)") for r in rows] == [
        "/search?subject=08",
        "/search?institution=donghu",
    ]
    assert rows[1].xpath("th/@lang") == ["en"]
    assert [th.text_content() for th in tree.xpath("//thead//th")] == ["门类", "课程"]
    assert not tree.xpath("//*[@style]"), "no inline style: the CSP forbids it"


def test_the_svg_is_well_formed_xml_for_each_style() -> None:
    for style in ("columns", "stacked", "lines"):
        svg = svg_of(time_series(RUNS, title="t", series=KEYS, style=style))
        assert svg.tag == f"{SVG}svg"
        patterns = {p.get("id") for p in svg.iter(f"{SVG}pattern")}
        used = {
            (node.get("fill") or "")[5:-1]
            for node in svg.iter()
            if "url(#" in (node.get("fill") or "")
        }
        assert used <= patterns, "every pattern a mark uses is defined"
    assert svg_of(bar_chart([("a & <b>", 1)], title="<t>", links=["/?a=1&b=2"])).tag == f"{SVG}svg"


def test_series_are_told_apart_without_colour() -> None:
    columns = svg_of(time_series(RUNS, title="t", series=KEYS))
    fills = {node.get("fill") or node.get("class") for node in columns.iter(f"{SVG}rect")}
    assert {"fill-0", f"url(#{time_series(RUNS, title='t', series=KEYS).id}-p1)"} <= fills
    lines = svg_of(time_series(RUNS, title="t", series=KEYS, style="lines"))
    dashes = {node.get("class") for node in lines.iter(f"{SVG}polyline")}
    assert len(dashes) == 3
    markers = {node.tag for node in lines.iter() if "marker" in (node.get("class") or "")}
    assert markers >= {f"{SVG}circle", f"{SVG}rect", f"{SVG}path"}


def test_the_table_of_a_time_series_has_a_column_per_series_and_can_be_folded() -> None:
    chart = time_series(RUNS, title="t", series=KEYS, x_heading="月份")
    tree = drawn(chart, summary="数据表")
    assert tree.xpath("string(//details/summary)") == "数据表"
    assert [th.text_content() for th in tree.xpath("//thead//th")] == ["月份", *KEYS]
    assert [r.xpath("string(th)") for r in tree.xpath("//tbody/tr")] == [p for p, _ in RUNS]
    assert tree.xpath("//tbody/tr[1]/td/text()") == ["120", "30", "2"]


def test_templates_write_chart_numbers_in_the_page_language() -> None:
    template = templates.env.from_string(
        '{% from "_charts.html" import chart %}'
        '{{ chart(bar_chart([("a", 12345)], title="t"), caption=false) }}'
    )
    tree = html.fromstring(template.render(lang="en"))
    assert tree.xpath("string(//td)") == "12,345"
    assert not tree.xpath("//figcaption")


def test_a_percent_axis_keeps_its_widest_tick_label_inside_the_chart() -> None:
    # "100%" was clipped to "l00%": the percent sign is as broad as a wide character.
    chart = time_series(
        [("run 1", {"q": 0.62}), ("run 2", {"q": 1.0})],
        title="quality",
        series=["q"],
        style="lines",
        y_max=1.0,
        format=lambda value: f"{value:.0%}",
    )
    widest = max(text_width(tick.text, charts.SMALL) for tick in chart.ticks)
    assert "100%" in [tick.text for tick in chart.ticks]
    assert chart.plot_left - 6 - widest >= 4  # the macro ends tick labels 6 left of the plot
