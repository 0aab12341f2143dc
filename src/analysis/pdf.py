"""Executed notebook -> accessible HTML -> tagged PDF (PDF/UA-1), per report and for the whole pack.

The executed notebook is converted by nbconvert with the ``crimeplan_report`` template
(``src/analysis/templates/``): markdown and outputs only -- no code cells, no prompts, no
``parameters`` / ``injected-parameters`` cells, no stderr. The fragment is wrapped in
``document.html.j2`` (cover, contents with page numbers, the reports, an appendix with methodology
links, the data-quality ledger of the period and the run's provenance) and printed by WeasyPrint
with ``pdf_variant="pdf/ua-1"``: a tagged PDF whose figures keep their ``alt`` text and captions and
whose tables keep their captions and header cells.
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
REPORT_TEMPLATE = "crimeplan_report"
HIDDEN_CELL_TAGS = ("parameters", "injected-parameters", "remove-cell")
#: A notebook cell tagged ``web-only`` is in the web edition but not in the printed pack (long
#: detail tables, the list of published files); the template marks it with these comments.
WEB_ONLY_TAG = "web-only"
WEB_ONLY_START, WEB_ONLY_END = "<!-- web-only -->", "<!-- /web-only -->"
PUBLISHER = "Office of the Police and Crime Commissioner (open-data evidence pack)"

METHODOLOGY_LINKS = (
    ("data.police.uk: about the data, its categories and known issues", "https://data.police.uk/about/"),
    ("Statistical methods: the methodology note published with the project source", ""),
    ("Home Office Counting Rules for recorded crime", "https://www.gov.uk/government/publications/counting-rules-for-recorded-crime"),
    ("ONS Census 2021 population and ethnic group estimates", "https://www.ons.gov.uk/census"),
    ("ONS geography lookups (LSOA, ward, local authority, police force area)", "https://geoportal.statistics.gov.uk/"),
    ("English Indices of Deprivation 2019 (MHCLG)", "https://www.gov.uk/government/statistics/english-indices-of-deprivation-2019"),
    ("Ministry of Justice proven reoffending statistics", "https://www.gov.uk/government/collections/proven-reoffending-statistics"),
    ("Open Government Licence v3.0", "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"),
)  # fmt: skip

_HEADING = re.compile(r"<h([1-6])(?:\s[^>]*)?>(.*?)</h\1>", re.DOTALL | re.IGNORECASE)
_ANCHOR_LINK = re.compile(r'<a class="anchor-link"[^>]*>.*?</a>', re.DOTALL)
_TAG = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class Heading:
    """One heading of a report body: ``level`` (1-6), plain ``text``, the ``id`` it now has and
    whether it is ``printed`` (``False`` inside a ``web-only`` cell: web edition only)."""

    level: int
    text: str
    id: str
    printed: bool = True


@dataclass(frozen=True)
class ReportFragment:
    """The printable body of one executed notebook.

    Attributes
    ----------
    name : str
        Notebook stem, e.g. ``"01_crime_by_area"``.
    title : str
        Text of the first level-1 heading (the notebook's title), else ``name``.
    body : str
        HTML fragment (no ``<html>``/``<body>``), headings renumbered ``<name>-<n>``.
    headings : tuple of Heading
        Every heading, in order, for the contents page.
    """

    name: str
    title: str
    body: str
    headings: tuple[Heading, ...]


@dataclass(frozen=True)
class PackContext:
    """Everything printed around the reports: cover facts and the appendix.

    The appendix tables are HTML strings made by :func:`html_table` from the store (data-quality
    facts and ledger rows of the period) and the run manifest (provenance, input checksums).
    """

    force: str
    force_name: str
    quarter: str
    quarter_label: str
    published: date
    next_publication: date | None = None
    extracted: str = ""
    latest_month: str = ""
    contact: str = ""
    status: str = ""
    glossary: tuple[tuple[str, str], ...] = ()
    quality_table: str = ""
    ledger_table: str = ""
    provenance_table: str = ""
    inputs_table: str = ""
    quality_note: str = ""
    provenance_note: str = ""
    methodology_links: tuple[tuple[str, str], ...] = METHODOLOGY_LINKS
    publisher: str = PUBLISHER
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Publication:
    """Publication facts from ``config/publication.yml``: producer, contact, status line, glossary
    and the rule for the next publication date."""

    producer: str
    contact_name: str
    contact_email: str
    status: str
    next_publication_months: int
    glossary: tuple[tuple[str, str], ...]

    @property
    def contact(self) -> str:
        return f"{self.contact_name}, {self.contact_email}"

    def next_publication(self, published: date) -> date:
        """``next_publication_months`` after ``published`` (the last day of the month when the
        day does not exist there)."""
        import calendar

        month0 = published.month - 1 + self.next_publication_months
        year, month = published.year + month0 // 12, month0 % 12 + 1
        return date(year, month, min(published.day, calendar.monthrange(year, month)[1]))


def load_publication(path: Path | None = None) -> Publication:
    """Read ``config/publication.yml`` (or ``path``)."""
    import yaml

    from analysis.paths import CONFIG_DIR

    data = yaml.safe_load(Path(path or CONFIG_DIR / "publication.yml").read_text(encoding="utf-8"))
    contact = data.get("contact") or {}
    return Publication(
        producer=str(data["producer"]),
        contact_name=str(contact.get("name", "")),
        contact_email=str(contact.get("email", "")),
        status=str(data["status"]),
        next_publication_months=int(data.get("next_publication_months", 3)),
        glossary=tuple((str(g["term"]), str(g["text"])) for g in data.get("glossary", [])),
    )


def long_date(day: date | None) -> str:
    """``2 December 2026`` (empty for ``None``)."""
    return f"{day.day} {day:%B %Y}" if day else ""


def plain_text(fragment: str) -> str:
    """Text of an HTML fragment with tags removed and entities decoded (for headings)."""
    return " ".join(html.unescape(_TAG.sub("", fragment)).split())


def renumber_headings(body: str, prefix: str) -> tuple[str, tuple[Heading, ...]]:
    """Give every heading of ``body`` a unique id ``<prefix>-<n>`` and drop nbconvert's pilcrow links.

    Returns the new HTML and the headings in document order; a heading between
    :data:`WEB_ONLY_START` and :data:`WEB_ONLY_END` is marked ``printed=False``.
    """
    found: list[Heading] = []
    hidden = [
        (m.start(), m.end())
        for m in re.finditer(
            re.escape(WEB_ONLY_START) + ".*?" + re.escape(WEB_ONLY_END), body, re.DOTALL
        )
    ]

    def _swap(match: re.Match) -> str:
        level = int(match.group(1))
        inner = _ANCHOR_LINK.sub("", match.group(2))
        printed = not any(a <= match.start() < b for a, b in hidden)
        heading = Heading(level, plain_text(inner), f"{prefix}-{len(found) + 1}", printed)
        found.append(heading)
        return f'<h{level} id="{heading.id}">{inner}</h{level}>'

    return _HEADING.sub(_swap, body), tuple(found)


def printable_notebook(nb):
    """Copy of notebook ``nb`` without the parameters cells (or any cell tagged ``remove-cell``)
    and with every code cell's source blanked, so no Python can reach the publication."""
    import copy

    out = copy.deepcopy(nb)
    kept = []
    for cell in out.cells:
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & set(HIDDEN_CELL_TAGS):
            continue
        if cell.cell_type == "code":
            cell.source = ""
        kept.append(cell)
    out.cells = kept
    return out


def report_fragment(executed: Path | object, name: str | None = None) -> ReportFragment:
    """Convert an executed notebook (path or ``nbformat.NotebookNode``) to a :class:`ReportFragment`."""
    import nbformat
    from nbconvert import HTMLExporter

    if isinstance(executed, (str, Path)):
        nb = nbformat.read(str(executed), as_version=4)
        name = name or Path(executed).stem
    else:
        nb = executed
    name = name or "report"
    exporter = HTMLExporter(
        template_name=REPORT_TEMPLATE,
        extra_template_basedirs=[str(TEMPLATES_DIR)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    body, _ = exporter.from_notebook_node(printable_notebook(nb))
    body, headings = renumber_headings(body, prefix=re.sub(r"[^A-Za-z0-9_-]", "-", name))
    title = next((h.text for h in headings if h.level == 1), name)
    return ReportFragment(name=name, title=title, body=body, headings=headings)


def html_table(table: pd.DataFrame, caption: str, max_rows: int | None = None) -> str:
    """Accessible HTML table (``<caption>``, ``<th scope="col">``, numbers right-aligned).

    Rows beyond ``max_rows`` are not printed; the caption then says how many are shown.
    """
    shown = table if max_rows is None else table.head(max_rows)
    if max_rows is not None and len(table) > max_rows:
        caption = f"{caption} (first {max_rows} of {len(table):,} rows; all rows in manifest.json)"
    numeric = {
        c
        for c in shown.columns
        if pd.api.types.is_numeric_dtype(shown[c]) and not pd.api.types.is_bool_dtype(shown[c])
    }
    columns = [{"label": str(c).replace("_", " "), "numeric": c in numeric} for c in shown.columns]
    rows = []
    for record in shown.itertuples(index=False):
        cells = []
        for col, value in zip(shown.columns, record, strict=True):
            if value is None or (not isinstance(value, str) and pd.isna(value)):
                text = ""
            elif col in numeric and isinstance(value, (int, float)) and float(value).is_integer():
                text = f"{int(value):,}"
            else:
                text = str(value)
            cells.append({"text": text, "numeric": col in numeric})
        rows.append(cells)
    template = jinja_environment().get_template("pack/table.html.j2")
    return template.render(caption=caption, columns=columns, rows=rows)


def jinja_environment():
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "j2")),
    )


def annex_letter(n: int) -> str:
    """``A``, ``B``, ... for the ``n``-th annex (0-based)."""
    return chr(ord("A") + n) if n < 26 else str(n + 1)


def document_html(
    title: str,
    subtitle: str,
    fragments: Sequence[ReportFragment],
    context: PackContext,
    not_included: Iterable[dict] = (),
    kicker: str = "Police and Crime Plan evidence",
    front: str | Sequence[str] | None = None,
) -> str:
    """The full printable HTML document: cover, contents, ``fragments`` in order, glossary and
    technical appendix.

    ``front`` names the fragment(s) printed first as the front section (main points, then the
    scorecard); every other fragment is then an annex chapter (``Annex A: ...``) on its own pages. Without
    ``front`` (a single report's page) fragments are printed as they are. ``not_included`` lists
    reports left out (dicts with ``title``, ``status``, ``reason``); they are named on the
    contents page so a reader knows what is missing and why.
    """
    from markupsafe import Markup

    sections, toc = [], []
    annexes = 0
    fronts = {front} if isinstance(front, str) else set(front or ())
    for frag in fragments:
        is_annex = front is not None and frag.name not in fronts
        label = f"Annex {annex_letter(annexes)}" if is_annex else ""
        annexes += is_annex
        sections.append(
            {"name": frag.name, "title": frag.title, "label": label, "body": Markup(frag.body)}
        )
        for h in frag.headings:
            if not h.printed:
                continue  # web edition only: no contents entry pointing at a missing page
            if h.level == 1 or (h.level == 2 and not is_annex):
                text = f"{label}: {h.text}" if label and h.level == 1 else h.text
                toc.append({"level": h.level, "text": text, "id": h.id})
    if context.glossary:
        toc.append({"level": 1, "text": "Glossary", "id": "glossary"})
    toc += [
        {"level": 1, "text": "Technical appendix", "id": "appendix"},
        {"level": 2, "text": "Methods and sources", "id": "appendix-methods"},
        {"level": 2, "text": f"Data quality for {context.quarter}", "id": "appendix-quality"},
        {"level": 2, "text": "How this pack was produced", "id": "appendix-provenance"},
    ]
    template = jinja_environment().get_template("document.html.j2")
    return template.render(
        title=title,
        subtitle=subtitle,
        kicker=kicker,
        css=Markup((TEMPLATES_DIR / "print.css").read_text(encoding="utf-8")),
        force_name=context.force_name,
        quarter=context.quarter,
        quarter_label=context.quarter_label,
        published=long_date(context.published),
        published_iso=context.published.isoformat(),
        next_publication=long_date(context.next_publication),
        extracted=context.extracted,
        latest_month=context.latest_month,
        contact=context.contact,
        status=context.status,
        publisher=context.publisher,
        status_note=(
            "Figures are derived from police open data (data.police.uk) with ONS and Ministry of "
            "Justice reference data, published under the Open Government Licence v3.0. They are "
            "produced by the commissioner's office and are not accredited official statistics. "
            "Every figure states its definition and source and, where it is an estimate or a "
            "comparison, its 95% range."
        ),
        toc=toc,
        not_included=list(not_included),
        sections=sections,
        glossary=[{"term": t, "text": x} for t, x in context.glossary],
        methodology_links=[{"text": t, "url": u} for t, u in context.methodology_links],
        quality_note=context.quality_note,
        quality_table=Markup(context.quality_table),
        ledger_table=Markup(context.ledger_table),
        provenance_note=context.provenance_note,
        provenance_table=Markup(context.provenance_table),
        inputs_table=Markup(context.inputs_table),
    )


def write_pdf(document: str, path: Path) -> Path:
    """Print HTML ``document`` to a tagged PDF/UA-1 file at ``path`` (written atomically)."""
    from weasyprint import HTML

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    HTML(string=document, base_url=str(path.parent)).write_pdf(str(tmp), pdf_variant="pdf/ua-1")
    os.replace(tmp, path)
    return path


def render_document(document: str, base_url: Path):
    """Lay out HTML ``document`` once (a WeasyPrint ``Document``): the combined pack and every
    report's PDF are written from this one layout."""
    from weasyprint import HTML

    return HTML(string=document, base_url=str(base_url)).render(pdf_variant="pdf/ua-1")


def section_pages(rendered, anchors: Sequence[str]) -> dict[str, list[int]]:
    """Page indexes of each section of a rendered document, from the page where its anchor
    (element id) lies up to the page before the next anchor of ``anchors`` (document order)."""
    starts = {}
    for index, page in enumerate(rendered.pages):
        for anchor in page.anchors:
            if anchor in anchors and anchor not in starts:
                starts[anchor] = index
    found = sorted(starts.items(), key=lambda item: item[1])
    ends = [start for _, start in found[1:]] + [len(rendered.pages)]
    return {a: list(range(start, end)) for (a, start), end in zip(found, ends, strict=True)}


def write_rendered(rendered, path: Path, pages: Sequence[int] | None = None) -> Path:
    """Write a rendered document (or only its ``pages``) to a tagged PDF/UA-1 file at ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    if pages is not None:
        rendered = rendered.copy([rendered.pages[i] for i in pages])
    rendered.write_pdf(str(tmp), pdf_variant="pdf/ua-1")
    os.replace(tmp, path)
    return path


def write_text(text: str, path: Path) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path
