"""Render an InvoiceDocument (an invoice or a credit note) to PDF bytes with Jinja2 + WeasyPrint."""

from __future__ import annotations

import io
import re
import threading
from datetime import date
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, format_percent
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from weasyprint import CSS, HTML, Attachment
from weasyprint.css import ColorProfile
from weasyprint.css.counters import CounterStyle
from weasyprint.html import UA_FORM_STYLESHEET
from weasyprint.text.fonts import FontConfiguration

from invoicing.documents import facturx
from invoicing.documents.model import InvoiceDocument

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

_env = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=select_autoescape(enabled_extensions=("html",), default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)

# Long unbroken words. The template lets a word wider than its column break anywhere
# (overflow-wrap: anywhere), and WeasyPrint finds each such break by laying out the whole rest of
# the word again with Pango: with the longest line names the API allows (500 characters, 21 lines
# in the description column), that was most of a 500-line invoice's render time. A zero-width
# space between the characters of a word that cannot fit the column anyway gives the same breaks
# (the word is broken between characters either way) at the cost of a short layout per line; it
# draws nothing and is not in the PDF's text. Words that may fit are left alone, so they still
# move to the next line whole.
_ZWSP = "\u200b"
# The width of the lines table's description column's content: 43 % of A4's 176 mm between the
# page margins, less the cell's 3 mm right padding, in points (see the stylesheet).
_LINE_TEXT_WIDTH_PT = (176 * 0.43 - 3) * 72 / 25.4
# DejaVu Sans's advance widths of " " to "~", in 1/2048 em (the template's font).
# fmt: off
_ASCII_WIDTHS = (
    651, 821, 942, 1716, 1303, 1946, 1597, 563, 799, 799, 1024, 1716, 651, 739, 651, 690, 1303,
    1303, 1303, 1303, 1303, 1303, 1303, 1303, 1303, 1303, 690, 690, 1716, 1716, 1716, 1087, 2048,
    1401, 1405, 1430, 1577, 1294, 1178, 1587, 1540, 604, 604, 1343, 1141, 1767, 1532, 1612, 1235,
    1612, 1423, 1300, 1251, 1499, 1401, 2025, 1403, 1251, 1403, 799, 690, 799, 1716, 1024, 1024,
    1255, 1300, 1126, 1300, 1260, 721, 1300, 1298, 569, 569, 1186, 569, 1995, 1298, 1253, 1300,
    1300, 842, 1067, 803, 1298, 1212, 1675, 1212, 1212, 1075, 1303, 690, 1303, 1716,
)
# fmt: on
# Other characters count as narrow as DejaVu Sans's narrowest letter (569: "ĩ"), so a word is
# only ever taken for too wide when it is. Only words of single-code-point characters (Latin,
# Greek, Cyrillic; no combining marks, no spacing modifier letters) get zero-width spaces: in
# other scripts a character and its marks must stay together.
_OTHER_WIDTH = 569
_SPLITTABLE_WORD = re.compile(r"[!-~\u00a1-\u00ac\u00ae-\u02af\u0370-\u0482\u048a-\u052f]+")
_WORD = re.compile(r"\S+")
# Between two characters, but not after an "f": HarfBuzz forms a ligature (fi, fl, ff, ffi, ffl)
# across a zero-width space, and WeasyPrint then loses the ligature's text.
_BETWEEN = re.compile(r"(?<=[^f])(?=.)", re.DOTALL)


def _breakable(text: str, font_pt: float) -> str:
    """`text` with a zero-width space between the characters of each word that is wider than the
    description column at `font_pt` (5 % to spare for kerning): a break opportunity where
    overflow-wrap: anywhere would break it anyway."""
    column = _LINE_TEXT_WIDTH_PT / font_pt * 2048 / 1.05
    if len(text) * 2048 <= column:  # none counts wider than 1 em
        return text

    def word(match: re.Match[str]) -> str:
        w = match[0]
        if _SPLITTABLE_WORD.fullmatch(w) is None:
            return w
        width = sum(_ASCII_WIDTHS[ord(c) - 32] if c < "\x7f" else _OTHER_WIDTH for c in w)
        return _BETWEEN.sub(_ZWSP, w) if width > column else w

    return _WORD.sub(word, text)


_env.filters["breakable"] = _breakable
_TEMPLATE = _env.get_template("invoice.html")

# The template's stylesheet is static: parse it once here instead of on every render (the
# template's {% block stylesheet %} is the one source; render_invoice_html still inlines it).
_STYLESHEET_SOURCE = "".join(_TEMPLATE.blocks["stylesheet"](_TEMPLATE.new_context({})))
_STYLESHEET = CSS(string=_STYLESHEET_SOURCE, base_url=str(TEMPLATES_DIR))

# WeasyPrint's user-agent stylesheet, less its rules for pseudo-elements of every element (list
# markers, footnote and note calls and markers: the template has no list, footnote or note).
# With them, WeasyPrint computes six more styles for each element, which made up about a fifth of
# a 500-line invoice's render time; without them, the PDF is the same, byte for byte.
_UNIVERSAL_PSEUDO_RULE = re.compile(
    r"^::(?:marker|footnote-call|footnote-marker|note-call|note-marker|note-callback) \{[^}]*\}$",
    re.MULTILINE,
)
_UA_STYLESHEET = CSS(
    string=_UNIVERSAL_PSEUDO_RULE.sub(
        "", resources.files("weasyprint.css").joinpath("html5_ua.css").read_text("utf-8")
    ),
    counter_style=CounterStyle(),  # WeasyPrint's own UA stylesheet has registered its counters
)


class _InvoiceHTML(HTML):  # type: ignore[misc]  # WeasyPrint is untyped
    def _ua_stylesheets(self, forms: bool = False) -> list[Any]:
        return [_UA_STYLESHEET, UA_FORM_STYLESHEET] if forms else [_UA_STYLESHEET]


# A FontConfiguration loads the Fontconfig configuration and holds Pango's font map (and its
# caches); reusing it saves that work on every render. Pango font maps are not thread-safe, so
# each thread gets its own.
_thread_local = threading.local()


def _font_config() -> FontConfiguration:
    config: FontConfiguration | None = getattr(_thread_local, "font_config", None)
    if config is None:
        config = _thread_local.font_config = FontConfiguration()
    return config


# PDF/A's output intent: the sRGB profile WeasyPrint ships. WeasyPrint 70 would open it itself on
# every PDF/A render (output_intent "srgb") and leave the file open, a ResourceWarning each time;
# handed over under a name of our own, it is read once, and WeasyPrint writes the same output
# intent. A new ColorProfile each render: it holds the render's PDF reference, and writing one
# profile object out twice does not give the same bytes twice.
_SRGB = "invoicing-srgb"
_SRGB_ICC = resources.files("weasyprint.pdf").joinpath("sRGB2014.icc").read_bytes()


def _srgb_profile() -> Any:
    return ColorProfile(
        io.BytesIO(_SRGB_ICC), "sRGB2014.icc", "relative-colorimetric", (["r"], ["g"], ["b"])
    )


class _Formatter:
    """Locale- and currency-bound formatting helpers handed to the template."""

    def __init__(self, doc: InvoiceDocument) -> None:
        self.locale = doc.locale
        self.currency = doc.currency

    def money(self, amount: Decimal) -> str:
        """An amount rounded to the currency's minor unit (the API already rounds them)."""
        return format_currency(amount, self.currency, locale=self.locale)

    def price(self, amount: Decimal) -> str:
        """A unit price: at least the currency's digits, but never hides extra precision."""
        return format_currency(
            amount, self.currency, locale=self.locale, decimal_quantization=False
        )

    def quantity(self, value: Decimal) -> str:
        return format_decimal(value, locale=self.locale, decimal_quantization=False)

    def percent(self, rate: Decimal) -> str:
        return format_percent(rate / 100, locale=self.locale, decimal_quantization=False)

    def date(self, value: date) -> str:
        return format_date(value, format="long", locale=self.locale)


def render_invoice_html(doc: InvoiceDocument, *, inline_stylesheet: bool = True) -> str:
    """The HTML the PDF is made from (handy for debugging the template).

    With ``inline_stylesheet=False`` the <style> element is left out: render_invoice_pdf
    passes the same stylesheet, parsed once, to WeasyPrint instead.
    """
    return _TEMPLATE.render(
        inline_stylesheet=inline_stylesheet,
        doc=doc,
        fmt=_Formatter(doc),
        # A fixed, content-derived timestamp keeps the PDF output deterministic.
        pdf_timestamp=doc.timestamp.strftime("%Y-%m-%dT%H:%M:%SZ"),
        lang=doc.locale.replace("_", "-"),
    )


def render_invoice_pdf(doc: InvoiceDocument) -> bytes:
    """Render the invoice or credit note as PDF. Pure: the same document gives the same bytes.

    With the document's CII (`doc.factur_x`) it is a Factur-X PDF/A-3b that embeds it, else a
    plain PDF. CPU-bound (tens to hundreds of milliseconds); call it from a worker thread in
    async code.
    """
    html = _InvoiceHTML(
        string=render_invoice_html(doc, inline_stylesheet=False), base_url=str(TEMPLATES_DIR)
    )
    options = {} if doc.factur_x is None else _factur_x_options(doc, doc.factur_x)
    pdf: bytes = html.write_pdf(stylesheets=[_STYLESHEET], font_config=_font_config(), **options)
    return pdf


def _factur_x_options(doc: InvoiceDocument, xml: bytes) -> dict[str, Any]:
    """WeasyPrint's options for a Factur-X PDF: PDF/A-3b (the PDF/A identification in the XMP, a
    file identifier, the catalog's /AF for the attachment) with the sRGB output intent, the CII
    attached as factur-x.xml with the relationship Data, and the Factur-X XMP properties."""
    attachment = Attachment(
        string=xml,  # bytes: embedded as they are
        name=facturx.FILENAME,  # its MIME type (the stream's /Subtype) is guessed: text/xml
        description=facturx.DESCRIPTION,
        # The document's own timestamp, not the time of rendering: the same bytes on every render.
        created=doc.timestamp,
        modified=doc.timestamp,
        relationship=facturx.RELATIONSHIP,
    )
    return {
        "pdf_variant": facturx.PDF_VARIANT,
        "output_intent": _SRGB,
        "color_profiles": {_SRGB: _srgb_profile()},
        "attachments": [attachment],
        # A file object, since WeasyPrint reads each entry like a stylesheet source.
        "xmp_metadata": [io.BytesIO(facturx.XMP_METADATA)],
        "finisher": _list_associated_files_once,
    }


def _list_associated_files_once(document: Any, pdf: Any) -> None:
    """WeasyPrint 70 lists each attachment twice in the catalog's /AF (Kozea/WeasyPrint#2917,
    fixed after 70.0): keep one entry per file specification, in order. A no-op once fixed."""
    associated = pdf.catalog.get("AF")
    if associated is not None:
        associated[:] = dict.fromkeys(associated)
