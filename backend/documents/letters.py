"""Letters to customers: a Jinja2 template in ``config/templates/`` renders
Markdown; the PDF is laid out from that same Markdown with reportlab.

The plan confirmation letter (issue 4) is the first; demand letters (issue 5)
are meant to be one more template and one more small ``render_*`` function,
through :func:`render_template` and :func:`markdown_to_pdf`.

- Money is an integer of minor units, shown with the currency's ISO 4217
  exponent and the letter's locale (babel); never a float.
- Every value a template prints is escaped for Markdown, so a customer's name
  or address cannot change the letter's layout; :class:`Md` marks text that is
  Markdown already.
- The card is printed only as ``•••• •••• •••• 1234``, whatever was passed.
- The PDF embeds every font it uses, as subsets of TrueType fonts found on the
  machine (:mod:`backend.documents.fonts`: DejaVu Sans for Latin text, WenQuanYi
  Micro Hei for Chinese), so it shows the same glyphs in any viewer, as a letter
  filed with a court must. The PDF is invariant: the same letter and the same
  font files give the same bytes.
- A letter's closing (``Yours sincerely,``, ``此致 敬礼``, the signature) is kept
  on one page with the paragraph before it: never a closing alone on a page.

reportlab is imported only when a PDF is rendered.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import re
import traceback
import unicodedata
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from backend.documents import fonts
from backend.documents.errors import LetterError
from backend_client.money import exponent, to_major
from config import CONFIG_DIR

if TYPE_CHECKING:
    import jinja2

TEMPLATE_DIR = CONFIG_DIR / "templates"
"""Where the letter templates live: ``<letter>.<lang>.md.j2``."""

KINDS = ("promise", "instalment", "minimum", "settlement")
MASK = "•••• •••• •••• "


@dataclass(frozen=True)
class PlanLetter:
    """What a repayment-plan confirmation letter says (SPEC §3, plans)."""

    bank_name: str
    bank_contact: str
    """Phone, address and how to pay; one item a line."""
    customer_name: str
    customer_address: str | None
    """One line of the address a line; None when none is on record."""
    account_ref: str
    card: str
    """The card as masked (``•••• •••• •••• 1234``); only its last four digits are ever printed."""
    currency: str
    """ISO 4217."""
    kind: str
    """promise, instalment, minimum or settlement."""
    total_minor: int
    """What the customer pays in all; the schedule sums to it exactly."""
    discount_minor: int
    """For a settlement: how much of the balance is forgiven."""
    balance_minor: int
    schedule: tuple[tuple[dt.date, int], ...]
    """(due date, amount in minor units), in date order."""
    status: str
    """draft, pending, active, kept, broken, cancelled or rejected."""
    approved_by: str | None
    created_on: dt.date
    agent_name: str
    grace_days: int
    lang: str = "en"
    """``en`` or ``zh_CN`` (any locale that has a template)."""


# --------------------------------------------------------------------------- formatting


@lru_cache(maxsize=16)
def _locale(lang: str):  # noqa: ANN202
    from babel import Locale, UnknownLocaleError

    try:
        return Locale.parse(lang)
    except (UnknownLocaleError, ValueError, TypeError) as exc:
        raise LetterError(f"unknown language {lang!r}") from exc


@lru_cache(maxsize=32)
def _currency_pattern(lang: str, digits: int):  # noqa: ANN202
    import copy

    pattern = copy.copy(_locale(lang).currency_formats["standard"])
    pattern.frac_prec = (digits, digits)
    return pattern


def format_money(amount_minor: int, currency: str, lang: str = "en") -> str:
    """``123450, "USD", "en"`` → ``$1,234.50``; ``1235, "JPY"`` → ``¥1,235``;
    ``123450, "CNY", "zh_CN"`` → ``¥1,234.50``. Exactly the currency's ISO 4217
    decimal places, in the locale's pattern; no float anywhere."""
    if isinstance(amount_minor, bool) or not isinstance(amount_minor, int):
        raise LetterError(f"an amount must be an integer of minor units, not {amount_minor!r}")
    value: Decimal = to_major(amount_minor, currency)
    text = _currency_pattern(lang, exponent(currency)).apply(
        value, _locale(lang), currency=currency.upper(), currency_digits=False)
    if currency.upper() != "USD" and "$" in text and not re.search(r"[A-Z]\$", text):
        # A bare "$" for another dollar (TWD in zh_TW: babel's symbol) is read as US dollars
        # by a court or a reader abroad: the currency's own prefix instead (NT$, HK$, A$).
        from babel.numbers import get_currency_symbol

        text = text.replace("$", get_currency_symbol(currency.upper(), locale="en"), 1)
    return text


def format_day(day: dt.date, lang: str = "en") -> str:
    """A date as a letter writes it: ``March 5, 2026``, ``2026年3月5日``."""
    from babel.dates import format_date

    return format_date(day, format="long", locale=_locale(lang))


_DIGIT = re.compile(r"[0-9]")


def mask_card(card: str) -> str:
    """``•••• •••• •••• 1234`` from the last four digits of ``card``, however it came."""
    digits = _DIGIT.findall(card or "")
    if len(digits) < 4:
        raise LetterError("card: no last four digits to show")
    return MASK + "".join(digits[-4:])


# --------------------------------------------------------------------------- Markdown


class Md(str):
    """Text that is Markdown already: a template prints it as it is."""

    __slots__ = ()


_MD_SPECIAL = re.compile(r"([\\`*_\[\]{}<>|~])")
_MD_LINE_START = re.compile(r"^(\s*)([#+-](?=\s|$)|>|[-=]+\s*$)")
_MD_NUMBERED = re.compile(r"^(\s*\d+)([.)])(?=\s|$)")


def md_escape(value: object) -> str:
    """``value`` as Markdown text that reads as itself: emphasis, links, tables and
    block starts are escaped with a backslash; line breaks become spaces."""
    if isinstance(value, Md):
        return value
    text = " ".join(str(value).splitlines())
    text = _MD_SPECIAL.sub(r"\\\1", text)
    text = _MD_NUMBERED.sub(r"\1\\\2", text)
    return _MD_LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), text)


def md_lines(text: str | None) -> Md:
    """Each line of ``text`` escaped, joined by Markdown hard breaks (a trailing ``\\``)."""
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return Md("\\\n".join(md_escape(line) for line in lines))


def _finalize(value: Any) -> Any:
    if value is None:
        return ""
    return md_escape(value)


@lru_cache(maxsize=8)
def _environment(directory: str) -> jinja2.Environment:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(directory, encoding="utf-8"),
        undefined=jinja2.StrictUndefined,
        finalize=_finalize,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = Md
    return env


_LANG = re.compile(r"^[a-z]{2,3}(_[A-Za-z0-9]{2,8})*$")


def render_template(letter_name: str, lang: str, context: dict[str, Any],
                    template_dir: Path | None = None) -> str:
    """Render ``<template_dir>/<letter_name>.<lang>.md.j2`` with ``context``.

    The template also has ``money(minor)`` and ``day(date)`` (in ``context["currency"]``
    and ``lang``), ``lines(text)`` (hard-broken lines) and the ``md`` filter
    (mark text as Markdown). Any problem with the file is a :class:`LetterError`
    naming it (and the line, where there is one)."""
    import jinja2

    if not _LANG.match(lang or ""):
        raise LetterError(f"unknown language {lang!r}")
    directory = (template_dir or TEMPLATE_DIR).resolve()
    name = f"{letter_name}.{lang}.md.j2"
    path = directory / name
    currency = context.get("currency", "")
    helpers: dict[str, Any] = {
        "money": lambda minor: format_money(minor, currency, lang),
        "day": lambda day: format_day(day, lang),
        "lines": md_lines,
    }
    env = _environment(str(directory))
    try:
        template = env.get_template(name)
    except jinja2.TemplateNotFound as exc:
        raise LetterError("letter template not found", path) from exc
    except jinja2.TemplateSyntaxError as exc:
        raise LetterError(f"line {exc.lineno}: {exc.message}", path) from exc
    except (UnicodeDecodeError, OSError) as exc:
        raise LetterError(f"cannot read the template: {exc}", path) from exc
    try:
        text = template.render({**helpers, **context})
    except LetterError:
        raise
    except Exception as exc:  # a broken template: an undefined name, a bad filter, an error in an expression
        line = _template_line(exc, path)
        where = f"line {line}: " if line else ""
        raise LetterError(f"{where}{type(exc).__name__}: {exc}", path) from exc
    return text


def _template_line(exc: BaseException, path: Path) -> int | None:
    lines = [frame.lineno for frame in traceback.extract_tb(exc.__traceback__)
             if Path(frame.filename).resolve() == path]
    return lines[-1] if lines else None


def _check(letter: PlanLetter) -> None:
    if letter.kind not in KINDS:
        raise LetterError(f"kind must be one of {', '.join(KINDS)}, not {letter.kind!r}")
    if not re.fullmatch(r"[A-Za-z]{3}", letter.currency or ""):
        raise LetterError(f"currency must be an ISO 4217 code, not {letter.currency!r}")
    if not letter.schedule:
        raise LetterError("the schedule has no payments")
    amounts = [amount for _due, amount in letter.schedule]
    for amount in (*amounts, letter.total_minor, letter.discount_minor, letter.balance_minor, letter.grace_days):
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise LetterError(f"amounts and days must be integers, not {amount!r}")
    if any(amount <= 0 for amount in amounts):
        raise LetterError("every payment in the schedule must be more than zero")
    if sum(amounts) != letter.total_minor:
        raise LetterError(f"the schedule sums to {sum(amounts)} minor units, the total is {letter.total_minor}")
    dues = [due for due, _amount in letter.schedule]
    if dues != sorted(dues):
        raise LetterError("the schedule is not in date order")
    if letter.discount_minor < 0 or letter.grace_days < 0:
        raise LetterError("the discount and the grace days cannot be negative")


def render_markdown(letter: PlanLetter, *, template_dir: Path | None = None) -> str:
    """The plan confirmation letter as Markdown, from ``plan_letter.<lang>.md.j2``."""
    _check(letter)
    shown = replace(letter, card=mask_card(letter.card), currency=letter.currency.upper())
    dues = [due for due, _amount in shown.schedule]
    context = {
        "letter": shown,
        "currency": shown.currency,
        "items": [(n, due, amount) for n, (due, amount) in enumerate(shown.schedule, start=1)],
        "count": len(shown.schedule),
        "first_due": dues[0],
        "last_due": dues[-1],
    }
    return render_template("plan_letter", shown.lang, context, template_dir)


def render_pdf(letter: PlanLetter, *, template_dir: Path | None = None) -> bytes:
    """The plan confirmation letter as PDF: the Markdown letter laid out on A4."""
    markdown = render_markdown(letter, template_dir=template_dir)
    return markdown_to_pdf(markdown, lang=letter.lang, author=letter.bank_name, footer=letter.account_ref)


# --------------------------------------------------------------------------- Markdown → PDF
#
# markdown-it-py (CommonMark, with pipe tables; raw HTML off) reads the letter; this
# lays out what the letters use: headings, paragraphs with hard breaks, lists,
# tables with alignment, thematic breaks, **strong** and *emphasis*. Anything else
# (code, quotes, links) is laid out as its text.

Inline = list[Any]
"""One line of a block: markdown-it inline tokens (``text``, ``strong_open``, ``em_open`` …)."""


def _wide(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in ("W", "F")


def _text_of(token: Any) -> str:
    return token.content if token.type in ("text", "code_inline", "html_inline") else ""


def _lines(children: list[Any]) -> list[Inline]:
    """An inline run split at its hard breaks; a soft break is a space, except between two
    wide (CJK) characters, where it is nothing."""
    lines: list[Inline] = [[]]
    for i, token in enumerate(children):
        if token.type == "hardbreak":
            lines.append([])
        elif token.type == "softbreak":
            before = next((_text_of(t) for t in reversed(children[:i]) if _text_of(t)), "")
            after = next((_text_of(t) for t in children[i + 1:] if _text_of(t)), "")
            if not (before and after and _wide(before[-1]) and _wide(after[0])):
                lines[-1].append(_Text(" "))
        else:
            lines[-1].append(token)
    return [line for line in lines if line] or [[]]


class _Text:
    """A ``text`` token of our own (the space a soft break becomes)."""

    type = "text"

    def __init__(self, content: str) -> None:
        self.content = content


def _plain(line: Inline) -> str:
    """The text an inline run shows."""
    return "".join(_text_of(token) for token in line).strip()


@lru_cache(maxsize=1)
def _parser() -> Any:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False}).enable("table")


def _blocks(markdown: str) -> list[tuple[Any, ...]]:
    """``("h", level, line)``, ``("p", lines)``, ``("ul"|"ol", items)`` (an item's lines),
    ``("table", aligns, rows)`` (a row's cells, each a line) and ``("hr",)``."""
    tokens = _parser().parse(markdown)
    blocks: list[tuple[Any, ...]] = []
    i = 0

    def inline_at(j: int) -> list[Any]:
        return tokens[j].children or []

    while i < len(tokens):
        token = tokens[i]
        kind = token.type
        if kind == "heading_open":
            blocks.append(("h", int(token.tag[1]), _lines(inline_at(i + 1))[0]))
            i += 3
        elif kind == "hr":
            blocks.append(("hr",))
            i += 1
        elif kind in ("bullet_list_open", "ordered_list_open"):
            close = kind.replace("_open", "_close")
            depth, items, j = 0, [], i
            while True:  # each item's text, nested lists flattened into it
                t = tokens[j]
                if t.type == kind:
                    depth += 1
                elif t.type == close:
                    depth -= 1
                    if depth == 0:
                        break
                elif t.type == "list_item_open" and depth == 1:
                    items.append([])
                elif t.type == "inline" and items:
                    items[-1].extend(_lines(t.children or []))
                j += 1
            blocks.append(("ul" if kind == "bullet_list_open" else "ol", items))
            i = j + 1
        elif kind == "table_open":
            aligns: list[str] = []
            rows: list[list[Inline]] = []
            j = i
            while tokens[j].type != "table_close":
                t = tokens[j]
                if t.type == "tr_open":
                    rows.append([])
                elif t.type in ("th_open", "td_open"):
                    style = str(t.attrGet("style") or "")
                    if t.type == "th_open":
                        aligns.append("center" if "center" in style else "right" if "right" in style else "left")
                elif t.type == "inline":
                    rows[-1].append([token for line in _lines(t.children or []) for token in line])
                j += 1
            width = len(aligns)
            blocks.append(("table", aligns, [(row + [[]] * width)[:width] for row in rows]))
            i = j + 1
        elif kind == "inline":  # a paragraph's (or a quote's) text
            blocks.append(("p", _lines(token.children or [])))
            i += 1
        elif kind in ("fence", "code_block"):
            blocks.append(("p", [[_Text(line)] for line in token.content.rstrip("\n").splitlines()]))
            i += 1
        else:
            i += 1
    return blocks


CLOSING_LINE = 60
"""A closing's lines are short (``Yours sincerely,``, ``此致``, the signature)."""


def _closing_start(blocks: list[tuple[Any, ...]]) -> int | None:
    """Where a letter's closing begins, with the paragraph before it: the last blocks, when
    they are up to three short paragraphs (a line at most ``CLOSING_LINE`` wide) after a
    paragraph. None when the text does not end so (a statement, a table at the end)."""
    start = len(blocks)
    while start > 0 and len(blocks) - start < 3 and blocks[start - 1][0] == "p" and all(
            sum(2 if _wide(ch) else 1 for ch in _plain(line)) <= CLOSING_LINE for line in blocks[start - 1][1]):
        start -= 1
    if start == len(blocks) or start == 0 or blocks[start - 1][0] != "p":
        return None
    return start - 1


class _Layout:
    """Markdown blocks → reportlab flowables, in one language's fonts."""

    def __init__(self, lang: str) -> None:
        from reportlab.lib import colors
        from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
        from reportlab.lib.styles import ParagraphStyle

        self.latin = fonts.register_family()
        self._cjk: str | None = None
        wrap = "CJK" if lang.split("_")[0] in ("zh", "ja", "ko") else None
        self.colors = colors
        self.body = ParagraphStyle("body", fontName=fonts.SANS.name, bulletFontName=fonts.SANS.name, fontSize=10,
                                   leading=14, spaceAfter=7,
                                   wordWrap=wrap)
        # A heading goes over to the next page with what it heads (keepWithNext), never alone at a foot.
        self.headings = {
            1: ParagraphStyle("h1", parent=self.body, fontName=fonts.SANS_BOLD.name, fontSize=15, leading=19,
                              spaceAfter=4, keepWithNext=1),
            2: ParagraphStyle("h2", parent=self.body, fontName=fonts.SANS_BOLD.name, fontSize=12.5, leading=16,
                              spaceBefore=8, spaceAfter=8, keepWithNext=1),
            3: ParagraphStyle("h3", parent=self.body, fontName=fonts.SANS_BOLD.name, fontSize=11, leading=14,
                              spaceBefore=6, spaceAfter=4, keepWithNext=1),
        }
        self.item = ParagraphStyle("item", parent=self.body, leftIndent=16, bulletIndent=4, spaceAfter=3)
        self.cell = {align: ParagraphStyle(f"cell-{align}", parent=self.body, spaceAfter=0, alignment=code)
                     for align, code in (("left", TA_LEFT), ("center", TA_CENTER), ("right", TA_RIGHT))}
        self.footer = ParagraphStyle("footer", parent=self.body, fontSize=8, leading=10, alignment=TA_CENTER,
                                     textColor=colors.grey)

    @property
    def cjk(self) -> str:
        """The CJK font's name, registered the first time a letter needs it."""
        if self._cjk is None:
            fonts.register_cjk()
            self._cjk = fonts.CJK.name
        return self._cjk

    def _is_latin(self, ch: str) -> bool:
        """Whether ``ch`` is set in the Latin font: DejaVu has it and it is not a wide
        (CJK, full-width) character."""
        return ord(ch) in self.latin and not _wide(ch) or ch.isspace()

    def runs(self, text: str) -> str:
        """Paragraph markup for plain ``text``: Latin in DejaVu Sans, the rest in the CJK font."""
        from xml.sax.saxutils import escape

        out = []
        for latin, chars in itertools.groupby(text, self._is_latin):
            run = escape("".join(chars))
            out.append(run if latin else f'<font face="{self.cjk}">{run}</font>')
        return "".join(out)

    def inline(self, line: Inline) -> str:
        """Paragraph markup for an inline run: text in its fonts, strong and emphasis."""
        tags = {"strong_open": "<b>", "strong_close": "</b>", "em_open": "<i>", "em_close": "</i>"}
        return "".join(tags.get(token.type) or self.runs(_text_of(token)) for token in line)

    def width(self, text: str, bold: bool) -> float:
        from reportlab.pdfbase.pdfmetrics import stringWidth

        size = self.body.fontSize
        latin = fonts.SANS_BOLD.name if bold else fonts.SANS.name
        return sum(stringWidth("".join(chars), latin if is_latin else self.cjk, size)
                   for is_latin, chars in itertools.groupby(text, self._is_latin))

    def flowables(self, markdown: str, frame_width: float) -> list[Any]:
        from reportlab.platypus import HRFlowable, KeepTogether, Paragraph

        blocks = _blocks(markdown)
        story: list[Any] = []
        keep_from = _closing_start(blocks)
        closing: list[Any] = []
        for at, block in enumerate(blocks):
            if at == keep_from:
                closing = story
                story = []
            kind = block[0]
            if kind == "h":
                story.append(Paragraph(self.inline(block[2]), self.headings[min(block[1], 3)]))
            elif kind == "p":
                story.append(Paragraph("<br/>".join(self.inline(line) for line in block[1]), self.body))
            elif kind in ("ul", "ol"):
                for n, item in enumerate(block[1], start=1):
                    bullet = "\u2022" if kind == "ul" else f"{n}."
                    story.append(Paragraph("<br/>".join(self.inline(line) for line in item), self.item,
                                           bulletText=bullet))
                story[-1].style = self.item.clone("item-last", spaceAfter=self.body.spaceAfter)
            elif kind == "table":
                story.append(self.table(block[1], block[2], frame_width))
            elif kind == "hr":
                story.append(HRFlowable(width="100%", thickness=0.5, color=self.colors.grey,
                                        spaceBefore=2, spaceAfter=8))
        if keep_from is not None:
            # The closing and the paragraph before it go to the next page together.
            story = [*closing, KeepTogether(story)]
        return story

    def table(self, aligns: list[str], rows: list[list[str]], frame_width: float) -> Any:
        from reportlab.platypus import Paragraph, Table, TableStyle

        pad = 6
        natural = [0.0] * len(aligns)
        for r, row in enumerate(rows):
            for c, cell in enumerate(row):
                bold = r == 0 or any(token.type == "strong_open" for token in cell)
                natural[c] = max(natural[c], self.width(_plain(cell), bold) + 2 * pad + 2)
        total = sum(natural)
        widths = natural if total <= frame_width else [w * frame_width / total for w in natural]
        data = []
        for r, row in enumerate(rows):
            cells = []
            for c, cell in enumerate(row):
                markup = self.inline(cell)
                cells.append(Paragraph(f"<b>{markup}</b>" if r == 0 and markup else markup, self.cell[aligns[c]]))
            data.append(cells)
        table = Table(data, colWidths=widths, repeatRows=1, hAlign="LEFT")
        table.setStyle(TableStyle([
            ("FONTNAME", (0, 0), (-1, -1), fonts.SANS.name),  # the cell's own (else Helvetica, unembedded)
            ("GRID", (0, 0), (-1, -1), 0.4, self.colors.grey),
            ("BACKGROUND", (0, 0), (-1, 0), self.colors.HexColor("#EEEEEE")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LEFTPADDING", (0, 0), (-1, -1), pad),
            ("RIGHTPADDING", (0, 0), (-1, -1), pad),
            ("TOPPADDING", (0, 0), (-1, -1), 3),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
        ]))
        table.spaceAfter = 8
        return table


def markdown_to_pdf(markdown: str, *, lang: str = "en", title: str | None = None, author: str = "",
                    footer: str = "") -> bytes:
    """Lay out a letter's Markdown on A4 pages. ``footer`` (with the page number) is
    printed at the foot of every page; ``title`` defaults to the first ``##`` heading.
    The bytes depend only on the arguments (reportlab's invariant mode)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate

    layout = _Layout(lang)
    if title is None:
        headings = [block for block in _blocks(markdown) if block[0] == "h"]
        second = [block for block in headings if block[1] == 2]
        title = _plain((second or headings)[0][2]) if headings else ""
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=22 * mm, rightMargin=22 * mm, topMargin=20 * mm,
                            bottomMargin=22 * mm, title=title, author=author, creator="collectdesk",
                            subject=title, invariant=1,
                            initialFontName=fonts.SANS.name)  # else the canvas starts in Helvetica, unembedded

    def foot(canvas: Any, document: Any) -> None:
        text = f"{footer} \u00b7 {document.page}" if footer else str(document.page)
        para = Paragraph(layout.runs(text), layout.footer)
        _w, h = para.wrap(document.width, 12 * mm)
        para.drawOn(canvas, document.leftMargin, 12 * mm - h / 2)

    doc.build(layout.flowables(markdown, doc.width), onFirstPage=foot, onLaterPages=foot)
    return buffer.getvalue()
