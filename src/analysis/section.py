"""The one shape every report section takes: :class:`Section`.

A report's ``sections`` module turns metrics (DataFrames) into Sections. A Section holds the
finding sentences, its tables (as :class:`analysis.tables.ReportTable`, each keeping the
DataFrame it was made from), its charts (:class:`analysis.charts.Chart`, each keeping its data)
and its caveats. It renders itself in JupyterLab and in the PDF template (``_repr_html_``) and
never writes a file: publishing is the runner's job.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import mistune
import pandas as pd

from analysis.charts import Chart
from analysis.tables import ReportTable, report_table

__all__ = ["Section", "WebOnly", "markdown_html", "published_section"]

_MARKDOWN = mistune.create_markdown(escape=True)


def markdown_html(text: str) -> str:
    """Render a short Markdown string (bold, lists, links) to HTML; raw HTML is escaped."""
    return _MARKDOWN(text)


@dataclass
class WebOnly:
    """A table or chart shown in JupyterLab and the web edition but not in the printed pack.

    For detail a panel reader does not need on paper (a long table by every area and crime type):
    the printed pack shows ``note`` in its place, saying where the detail is.
    """

    item: ReportTable | Chart
    note: str = "The full table is in the web edition of this report and in its CSV file."

    def _repr_html_(self) -> str:
        shown = f'<!-- web-only --><div class="web-only">{self.item._repr_html_()}</div><!-- /web-only -->'
        if not self.note:
            return shown
        return shown + f'<p class="print-only" style="display: none">{html.escape(self.note)}</p>'


def _unwrap(item):
    return item.item if isinstance(item, WebOnly) else item


@dataclass
class Section:
    """A finding with the tables and charts that support it.

    Attributes
    ----------
    title : str
        Short heading, stated as a finding where possible. Notebooks give the heading in a
        Markdown cell, so it is not rendered again (``show_title=False`` by default).
    findings : list of str
        Plain-English sentences (Markdown allowed), most important first.
    items : list of ReportTable, Chart, WebOnly or str
        Tables, charts and Markdown paragraphs in display order (:class:`WebOnly` wraps a table
        or chart left out of the printed pack).
    caveats : list of str
        What a reader must know to read the figures correctly.
    show_title : bool
        Render ``title`` as a heading (for sections shown outside a notebook heading).
    """

    title: str
    findings: list[str] = field(default_factory=list)
    items: list[ReportTable | Chart | WebOnly | str] = field(default_factory=list)
    caveats: list[str] = field(default_factory=list)
    show_title: bool = False

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """The DataFrame behind each table of the section, keyed by its caption."""
        items = [_unwrap(item) for item in self.items]
        return {
            item.caption: (item.data if item.data is not None else item.display)
            for item in items
            if isinstance(item, ReportTable)
        }

    @property
    def charts(self) -> dict[str, pd.DataFrame | None]:
        """The DataFrame behind each chart of the section, keyed by its title."""
        items = [_unwrap(item) for item in self.items]
        return {item.title: item.data for item in items if isinstance(item, Chart)}

    def _repr_html_(self) -> str:
        parts = ['<section class="report-section">']
        if self.show_title:
            parts.append(f"<h3>{html.escape(self.title)}</h3>")
        if self.findings:
            bullets = "\n".join(f"- {f}" for f in self.findings)
            parts.append(f'<div class="findings">{markdown_html(bullets)}</div>')
        for item in self.items:
            if isinstance(item, str):
                parts.append(markdown_html(item))
            else:
                parts.append(item._repr_html_())
        if self.caveats:
            bullets = "\n".join(f"- {c}" for c in self.caveats)
            parts.append(f'<div class="caveats">{markdown_html(bullets)}</div>')
        parts.append("</section>")
        return "\n".join(parts)

    def __repr__(self) -> str:
        return (
            f"Section({self.title!r}: {len(self.findings)} findings, "
            f"{len(self.tables)} tables, {len(self.charts)} charts)"
        )


def published_section(tables: dict[str, pd.DataFrame], report: str) -> Section:
    """The "Published tables" section of a report: one row per CSV file (its name, rows, columns).

    ``tables`` is the report's ``metrics.published_tables(data)``; ``report`` its notebook stem.
    Lists what :func:`analysis.outputs.write_tables` writes; writes nothing itself. The reader
    sees each table's plain name; the frame behind the table (``.tables``) keeps the file name.
    """
    listing = pd.DataFrame(
        {
            "file": [f"{name}.csv" for name in tables],
            "name": [name.replace("_", " ").capitalize() for name in tables],
            "rows": [len(table) for table in tables.values()],
            "columns": [len(table.columns) for table in tables.values()],
        }
    )
    table = report_table(
        listing,
        columns={"name": "Table", "rows": "Rows", "columns": "Columns"},
        caption="Tables published with this report",
        counts=["rows", "columns"],
        notes=[
            "Each table is published as a CSV file with a guide to its columns, and all the "
            "tables of the pack are also in one spreadsheet workbook."
        ],
    )
    table.data = listing
    return Section("Published tables", items=[table])
