"""Executed notebook -> report HTML -> tagged PDF: no code, alt text and captions kept, PDF/UA."""

from __future__ import annotations

import base64
import io
import re
from datetime import date

import nbformat
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from pypdf import PdfReader

from analysis.pdf import (
    PackContext,
    document_html,
    html_table,
    plain_text,
    printable_notebook,
    renumber_headings,
    report_fragment,
    write_pdf,
)

ALT = (
    "Bar chart: Newcastle upon Tyne had the most crimes (5,120), North Tyneside the fewest (1,980)."
)
CAPTION = "Crimes recorded by local authority, October to December 2022"
SECRET_CODE = "report.section_secret_helper(data)"
INJECTED = 'quarter = "1999-Q1"'


def _png() -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4, 2))
    ax.bar(["A", "B"], [3, 5])
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=60)
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def executed_notebook(rows: int = 60) -> nbformat.NotebookNode:
    """An 'executed' report notebook built by hand: outputs as Papermill would leave them."""
    params = new_code_cell('force: str = "northumbria"\nquarter: str = "2022-Q4"')
    params.metadata["tags"] = ["parameters"]
    injected = new_code_cell(f"# Parameters\n{INJECTED}\n")
    injected.metadata["tags"] = ["injected-parameters"]
    figure = new_code_cell(
        SECRET_CODE,
        outputs=[
            new_output(
                "display_data",
                data={
                    "text/html": f'<figure><img alt="{ALT}" src="data:image/png;base64,{_png()}">'
                    f"<figcaption>{CAPTION}. Source: data.police.uk</figcaption></figure>",
                    "text/plain": "<Chart>",
                },
            ),
            new_output("stream", name="stderr", text="FutureWarning: noisy library warning\n"),
        ],
    )
    body = "".join(f'<tr><td>Ward {i}</td><td class="num">{i * 3}</td></tr>' for i in range(rows))
    table = new_code_cell(
        "report.table_helper(data)",
        outputs=[
            new_output(
                "execute_result",
                data={
                    "text/html": f'<table><caption>Crimes by ward</caption><thead><tr><th scope="col">Ward</th>'
                    f'<th scope="col">Crimes</th></tr></thead><tbody>{body}</tbody></table>',
                    "text/plain": "<ReportTable>",
                },
                execution_count=4,
            )
        ],
    )
    headline = new_code_cell(
        "report.headline(data)",
        outputs=[
            new_output(
                "display_data",
                data={"text/markdown": "Burglary: **412** crimes.", "text/plain": "<Markdown>"},
            )
        ],
    )
    nb = new_notebook(
        cells=[
            new_markdown_cell("# Crime by area\n\nWhich plan promise this answers."),
            params,
            injected,
            new_code_cell(
                "from analysis.reports import crime_by_area as report\ndata = report.load(run)"
            ),
            new_markdown_cell("## Where crime is highest\n\nRead the bars left to right."),
            figure,
            new_markdown_cell("## Crimes by ward"),
            table,
            new_markdown_cell("## Headline"),
            headline,
            new_markdown_cell("## Caveats\n\nLocations are snapped to map points."),
        ]
    )
    return nb


def context() -> PackContext:
    quality = pd.DataFrame({"month": ["2022-10"], "kind": ["street"], "rows": [21043]})
    return PackContext(
        force="northumbria",
        force_name="Northumbria",
        quarter="2022-Q4",
        quarter_label="October to December 2022",
        published=date(2023, 2, 1),
        quality_table=html_table(quality, "Data-quality facts"),
        provenance_table=html_table(
            pd.DataFrame({"Item": ["Force"], "Value": ["northumbria"]}),
            "How this pack was produced",
        ),
    )


def test_renumber_headings_gives_unique_ids_and_plain_text():
    body = (
        '<h1 id="x">Crime &amp; disorder<a class="anchor-link" href="#x">&#182;</a></h1>'
        '<p>text</p><h2 id="x">Where <em>most</em></h2><h2>Where <em>most</em></h2>'
    )
    new, headings = renumber_headings(body, "01_crime")
    assert [h.id for h in headings] == ["01_crime-1", "01_crime-2", "01_crime-3"]
    assert [h.level for h in headings] == [1, 2, 2]
    assert headings[0].text == "Crime & disorder"
    assert headings[1].text == "Where most"
    assert "anchor-link" not in new and "&#182;" not in new
    assert len(re.findall(r'id="01_crime-\d"', new)) == 3


def test_printable_notebook_drops_parameters_cells_and_code():
    nb = executed_notebook()
    out = printable_notebook(nb)
    tags = [t for c in out.cells for t in c.metadata.get("tags", [])]
    assert "parameters" not in tags and "injected-parameters" not in tags
    assert all(c.source == "" for c in out.cells if c.cell_type == "code")
    assert len(out.cells) == len(nb.cells) - 2
    assert nb.cells[5].source == SECRET_CODE  # the input notebook is left untouched


def test_report_fragment_keeps_outputs_and_drops_code_prompts_and_stderr():
    frag = report_fragment(executed_notebook(), "01_crime_by_area")
    assert frag.title == "Crime by area"
    assert [h.text for h in frag.headings if h.level == 2] == [
        "Where crime is highest", "Crimes by ward", "Headline", "Caveats",
    ]  # fmt: skip
    assert f'alt="{ALT}"' in frag.body
    assert "<figcaption>" in frag.body and "<caption>Crimes by ward</caption>" in frag.body
    assert "<strong>412</strong>" in frag.body  # text/markdown output rendered
    for leaked in (SECRET_CODE, "report.load", INJECTED, "FutureWarning", "Out[", "In ["):
        assert leaked not in frag.body


def test_html_table_is_accessible_and_formats_numbers():
    table = pd.DataFrame({"ward": ["A", "B"], "crimes": [1234, 5], "note": [None, "x"]})
    out = html_table(table, "Crimes by ward")
    assert "<caption>Crimes by ward</caption>" in out
    assert out.count('scope="col"') == 3
    assert '<td class="num">1,234</td>' in out and '<td class="num">5</td>' in out
    assert "<td></td>" in out  # missing shown blank, never "None" or "nan"
    assert "None" not in out and "nan" not in out
    clipped = html_table(pd.DataFrame({"n": range(10)}), "Ten", max_rows=3)
    assert "first 3 of 10 rows" in clipped and clipped.count("<tr>") == 4


def test_document_has_cover_contents_and_appendix():
    frag = report_fragment(executed_notebook(), "01_crime_by_area")
    doc = document_html("Crime by area", "Northumbria", [frag], context(), not_included=[
        {"title": "Rural crime", "status": "skipped", "reason": "no rural areas in the force"}
    ])  # fmt: skip
    assert '<html lang="en-GB">' in doc and "<title>Crime by area</title>" in doc
    for anchor in [h.id for h in frag.headings if h.level <= 2] + [
        "appendix",
        "appendix-quality",
        "appendix-provenance",
    ]:
        assert f'href="#{anchor}"' in doc and f'id="{anchor}"' in doc
    assert "no rural areas in the force" in doc
    assert "1 February 2023" in doc and "October to December 2022" in doc
    assert "data.police.uk" in plain_text(doc)


@pytest.mark.slow
def test_pdf_is_tagged_ua_with_alt_text_captions_and_no_code(tmp_path):
    frag = report_fragment(executed_notebook(rows=120), "01_crime_by_area")
    doc = document_html("Crime by area", "Northumbria, October to December 2022", [frag], context())
    path = write_pdf(doc, tmp_path / "report.pdf")
    reader = PdfReader(path)
    root = reader.trailer["/Root"]
    assert bool(root["/MarkInfo"]["/Marked"])
    assert "/StructTreeRoot" in root
    assert root["/Lang"] == "en-GB"
    assert reader.metadata.title == "Crime by area"

    def walk(node, found):
        node = node.get_object()
        if hasattr(node, "get"):
            if node.get("/S") is not None:
                found.append((str(node["/S"]), node.get("/Alt")))
            kids = node.get("/K")
            for kid in kids if isinstance(kids, list) else [kids]:
                if kid is not None and hasattr(kid, "get_object"):
                    walk(kid, found)
        return found

    tags = walk(root["/StructTreeRoot"], [])
    names = [t for t, _ in tags]
    assert ("/Figure", ALT) in tags
    assert {"/Caption", "/Table", "/TH", "/H1", "/H2"} <= set(names)

    pages = [p.extract_text() for p in reader.pages]
    text = "\n".join(pages)
    squashed = " ".join(text.split())
    for heading in (
        "Crime by area",
        "Where crime is highest",
        "Crimes by ward",
        "Caveats",
        "Contents",
        "Technical appendix",
    ):
        assert heading in squashed
    for leaked in (SECRET_CODE, "report.load", "import ", "1999-Q1", "FutureWarning"):
        assert leaked not in squashed
    n = len(reader.pages)
    assert n >= 5  # cover, contents, a 120-row table over several pages, appendix
    assert f"Page 2 of {n}" in pages[1] and f"Page {n} of {n}" in pages[-1]
    assert "Page" not in pages[0]  # the cover has no running footer
    # the table's header row repeats on every page the table spans
    assert sum("Ward 1" in p or "Ward 119" in p for p in pages) >= 2
    assert sum(p.count("WardCrimes") + p.count("Ward Crimes") for p in pages) >= 2
