"""Charts keep their provenance (in the figure and the file's metadata) and a legend; a
format charts are not written in fails before anything is drawn."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from carbonfoot import Catalog, Engine
from carbonfoot.demo.synthetic import generate_trips
from carbonfoot.errors import InputError
from carbonfoot.research import BatchEvaluator, compare, run_sensitivity
from carbonfoot.research.charts import chart_format, comparison_chart, tornado_chart

TRIPS = generate_trips(800, users=100, seed=8)
SVG = "{http://www.w3.org/2000/svg}"
DC = "{http://purl.org/dc/elements/1.1/}"


@pytest.fixture(scope="module")
def comparison(catalog: Catalog):  # type: ignore[no-untyped-def]
    return compare(
        Engine("uk-desnz-2025", catalog=catalog, policy_params={"daily_cap": "200"}),
        Engine("cn-nanjing", catalog=catalog, baseline="published-savings"),
        TRIPS,
    )


def svg_parts(path: Path) -> tuple[str, str, str]:
    """The SVG's title and description (Dublin Core) and all its text elements, joined."""
    root = ET.parse(path).getroot()
    title = root.find(f".//{DC}title")
    description = root.find(f".//{DC}description")
    texts = " ".join("".join(node.itertext()) for node in root.iter(f"{SVG}text"))
    assert title is not None
    assert description is not None
    return title.text or "", description.text or "", texts


def test_a_comparison_chart_in_svg_names_both_runs(comparison, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "compare.svg"
    comparison_chart(comparison, path)
    title, description, texts = svg_parts(path)
    assert "change from A to B" in title
    for run in (comparison.run_a, comparison.run_b):
        for text in (description, texts):
            assert run.factor_set in text
            assert run.factor_set_hash[:12] in text
            assert f"{run.trips:,} trips" in text
        assert run.factor_set_hash in description  # the full hash in the metadata
    assert "daily_cap=200" in description
    assert "daily_cap=200" in texts
    assert "published-savings" in description
    assert "B above A" in texts
    assert "B below A" in texts
    assert "no baseline in B" in texts  # walk has none under published-savings


def test_a_tornado_chart_in_png_and_pdf_carries_its_provenance(
    catalog: Catalog, tmp_path: Path
) -> None:
    from PIL import Image

    engine = Engine("cn-nanjing", catalog=catalog)
    report = run_sensitivity(BatchEvaluator(engine, engine.prepare(TRIPS)), percent=10)
    png = tmp_path / "tornado.png"
    tornado_chart(report, png)
    with Image.open(png) as image:
        info = dict(image.info)
    assert "sensitivity" in info["Title"]
    assert engine.factor_set.content_hash in info["Description"]
    assert "+/-10%" in info["Description"]
    assert f"{TRIPS.num_rows:,} trips" in info["Description"]
    assert info["Software"].startswith("carbonfoot")
    pdf = tmp_path / "tornado.pdf"
    tornado_chart(report, pdf)
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    assert b"carbonfoot sensitivity" in data
    assert engine.factor_set.content_hash.encode() in data
    svg = tmp_path / "tornado.svg"
    tornado_chart(report, svg)
    _, _, texts = svg_parts(svg)
    assert "factor at its low value" in texts
    assert "factor at its high value" in texts
    assert "cn-nanjing@" in texts


@pytest.mark.parametrize("name", ["chart.jpg", "chart", "chart.eps", "chart.png.txt"])
def test_an_unsupported_format_fails_before_drawing(comparison, tmp_path: Path, name: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / name
    with pytest.raises(InputError, match=r"\.png, \.svg, \.pdf"):
        chart_format(path)
    with pytest.raises(InputError):
        comparison_chart(comparison, path)
    assert list(tmp_path.iterdir()) == []


def test_the_format_follows_the_extension_whatever_its_case() -> None:
    assert chart_format("Report.SVG") == "svg"
    assert chart_format(Path("a/b.Pdf")) == "pdf"
