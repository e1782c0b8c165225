"""The board report as a PDF of one or two A4 pages, drawn with fpdf2 from the same `Board` as the HTML.
Charts are fpdf2's own lines, boxes and circles from the `core.views.small_chart` layout (no image, no
plotting library), so the file stays small and its text stays selectable.

Text is set in DejaVu Sans when the system has it (Debian's fonts-dejavu-core, which chromium pulls in),
so currency signs and dashes print as written. Without it the PDF falls back to fpdf2's built-in
Helvetica, which holds latin-1 only; `latin1` then spells the few characters outside it (EUR for €,
- for an en dash) rather than fail or print a blank.
"""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos
from fpdf.enums import YPos
from fpdf.fonts import FontFace

from core.schema import ModelSpec
from core.store import Store
from core.views.board import Board
from core.views.board import Card
from core.views.board import Note
from core.views.board import Section
from core.views.board import Table
from core.views.board import build_board
from core.views.report import COLORS
from core.views.small_chart import Box
from core.views.small_chart import Dot
from core.views.small_chart import Label
from core.views.small_chart import SmallChart
from core.views.small_chart import Stroke
from core.views.small_chart import layout

FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/share/fonts/TTF"),
    Path("/usr/local/share/fonts"),
)
FACES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf", "I": "DejaVuSans-Oblique.ttf"}
# fmt: off
SPELLED = {
    "€": "EUR ", "₹": "INR ", "₩": "KRW ", "₽": "RUB ", "₺": "TRY ", "₪": "ILS ", "₦": "NGN ",
    "–": "-", "—": "-", "−": "-", "…": "...", "‘": "'", "’": "'", "“": '"', "”": '"',
    "≤": "<=", "≥": ">=", "→": "->", "←": "<-", "≈": "~", "•": "*", "\u00a0": " ", "\u202f": " ",
}
# fmt: on
"""How the latin-1 fallback spells what Helvetica cannot print; anything else left becomes `?`."""
INK, MUTED, LINE = "#0f172a", "#64748b", "#e2e8f0"
TINTS = {"critical": ("#dc2626", "#fef2f2"), "warning": ("#d97706", "#fffbeb")}
MARGIN, PT = 14.0, 0.3528  # millimetres; one typographic point in millimetres


def latin1(text: str) -> str:
    """`text` in latin-1 for the built-in fonts: known symbols spelled out, the rest as `?`."""
    spelled = "".join(SPELLED.get(ch, ch) for ch in text)
    return spelled.encode("latin-1", errors="replace").decode("latin-1")


def unicode_font(*, dirs: tuple[Path, ...] = FONT_DIRS) -> dict[str, Path] | None:
    """The DejaVu Sans files by style ('' regular, 'B' bold, 'I' oblique) from the first folder holding all."""
    for folder in dirs:
        files = {style: folder / name for style, name in FACES.items()}
        if all(p.is_file() for p in files.values()):
            return files
    return None


class _Pdf(FPDF):
    """An A4 page with the report's fonts; `t` makes any text printable in the font chosen.

    `fit` is one of FITS: how large the text is set, how many charts share a row and how high they are.
    """

    def __init__(self, *, font: dict[str, Path] | None, fit: tuple[float, int, float] = (1.0, 2, 0.5)) -> None:
        super().__init__(format="A4", unit="mm")
        self.scale, self.columns, self.aspect = fit
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(True, margin=MARGIN)
        self.unicode = font is not None
        if font is not None:
            for style, path in font.items():
                self.add_font("DejaVu", style, str(path))
        self.family = "DejaVu" if self.unicode else "helvetica"
        self.set_creator("ModelPulse")

    def t(self, text: object) -> str:
        return str(text) if self.unicode else latin1(str(text))

    def use(self, size: float, style: str = "", color: str = INK, *, scaled: bool = True) -> None:
        self.set_font(self.family, style, size * self.scale if scaled else size)
        self.set_text_color(color)

    def leading(self, size: float) -> float:
        """The height in millimetres of one line of text set at `size` points (before scaling)."""
        return size * self.scale * PT * 1.45

    def para(self, text: str, *, size: float = 9.5, style: str = "", color: str = INK, indent: float = 0) -> None:
        self.use(size, style, color)
        self.set_x(self.l_margin + indent)
        self.multi_cell(
            self.epw - indent, self.leading(size), self.t(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L"
        )

    def room(self, height: float) -> None:
        """Start a new page unless `height` more millimetres fit on this one."""
        if self.get_y() + height > self.h - self.b_margin:
            self.add_page()

    def text_height(self, text: str, *, width: float, size: float, style: str = "") -> float:
        self.use(size, style)
        lines = self.multi_cell(width, self.leading(size), self.t(text), dry_run=True, output="LINES", align="L")
        return len(lines) * self.leading(size)


def _cards(pdf: _Pdf, cards: tuple[Card, ...]) -> None:
    gap = 4.0
    width = (pdf.epw - gap * (len(cards) - 1)) / len(cards)
    inner = width - 6
    heights = [
        pdf.text_height(c.label, width=inner, size=8) + 8 + pdf.text_height(c.note or " ", width=inner, size=7.5)
        for c in cards
    ]
    height = max(heights) + 5
    pdf.room(height + 2)
    top = pdf.get_y()
    for i, card in enumerate(cards):
        x = pdf.l_margin + i * (width + gap)
        pdf.set_draw_color(LINE)
        pdf.rect(x, top, width, height, style="D", round_corners=True, corner_radius=1.5)
        pdf.set_xy(x + 3, top + 2.5)
        pdf.use(8, color=MUTED)
        pdf.multi_cell(inner, pdf.leading(8), pdf.t(card.label), new_x=XPos.LEFT, new_y=YPos.NEXT, align="L")
        pdf.use(14, "B")
        pdf.cell(inner, 8, pdf.t(card.value), new_x=XPos.LEFT, new_y=YPos.NEXT, align="L")
        pdf.use(7.5, color=MUTED)
        pdf.multi_cell(inner, pdf.leading(7.5), pdf.t(card.note), new_x=XPos.LEFT, new_y=YPos.NEXT, align="L")
    pdf.set_xy(pdf.l_margin, top + height + 3)


def _note(pdf: _Pdf, note: Note) -> None:
    bar, tint = TINTS.get(note.severity, TINTS["warning"])
    inner = pdf.epw - 6
    head = f"{note.title} ({note.severity}, {note.state})"
    blocks = [(head, "B", 9), *((line, "", 8.5) for line in note.lines), (note.action, "I", 8.5)]
    height = sum(pdf.text_height(text, width=inner, size=size, style=style) for text, style, size in blocks) + 3
    pdf.room(height + 2)
    top = pdf.get_y()
    pdf.set_fill_color(tint)
    pdf.rect(pdf.l_margin, top, pdf.epw, height, style="F")
    pdf.set_fill_color(bar)
    pdf.rect(pdf.l_margin, top, 1.2, height, style="F")
    pdf.set_y(top + 1.5)
    for text, style, size in blocks:
        pdf.para(text, size=size, style=style, indent=4)
    pdf.set_y(top + height + 2)


def _chart(pdf: _Pdf, chart: SmallChart, *, x: float, y: float, w: float, h: float) -> None:
    # the same layout as the SVG (340 units wide), scaled to the box in millimetres
    drawn = layout(chart, width=340, height=340 * h / w)
    k = w / drawn.width
    for mark in drawn.marks:
        if isinstance(mark, Stroke):
            pdf.set_draw_color(mark.color)
            pdf.set_line_width(mark.width * k)
            if mark.dashed:
                pdf.set_dash_pattern(dash=1.2, gap=0.9)
            pdf.polyline([(x + px * k, y + py * k) for px, py in mark.points])
            if mark.dashed:
                pdf.set_dash_pattern()
        elif isinstance(mark, Box):
            pdf.set_line_width(0.2)
            pdf.set_draw_color(mark.stroke or mark.fill or INK)
            pdf.set_fill_color(mark.fill or "#ffffff")
            pdf.rect(x + mark.x * k, y + mark.y * k, mark.w * k, mark.h * k, style="DF")
        elif isinstance(mark, Dot):
            pdf.set_line_width(0.25)
            pdf.set_draw_color(mark.color)
            pdf.set_fill_color("#ffffff" if mark.hollow else mark.color)
            pdf.circle(x + mark.x * k, y + mark.y * k, mark.r * k, style="DF")
        elif isinstance(mark, Label):
            pdf.use(mark.size * k / PT, "B" if mark.bold else "", mark.color, scaled=False)
            words = pdf.t(mark.text)
            shift = {"start": 0, "middle": pdf.get_string_width(words) / 2, "end": pdf.get_string_width(words)}
            pdf.text(x + mark.x * k - shift[mark.anchor], y + mark.y * k, words)
    pdf.set_line_width(0.2)


GAP = 5.0
"""Millimetres between charts; each is half as high as wide."""


def _chart_height(pdf: _Pdf) -> float:
    return (pdf.epw - GAP * (pdf.columns - 1)) / pdf.columns * pdf.aspect


def _charts(pdf: _Pdf, charts: tuple[SmallChart, ...]) -> None:
    gap, columns = GAP, pdf.columns
    h = _chart_height(pdf)
    w = h / pdf.aspect
    for i in range(0, len(charts), columns):
        pdf.room(h + 3)
        top = pdf.get_y()
        for j, chart in enumerate(charts[i : i + columns]):
            _chart(pdf, chart, x=pdf.l_margin + j * (w + gap), y=top, w=w, h=h)
        pdf.set_xy(pdf.l_margin, top + h + 3)


def _table(pdf: _Pdf, table: Table) -> None:
    # fpdf2's table wraps long headings and repeats them after a page break
    columns = len(table.header)
    pdf.use(8)
    pdf.set_draw_color(LINE)
    pdf.set_fill_color("#ffffff")  # the table fills its headings with the current colour: a chart's otherwise
    with pdf.table(
        col_widths=(1.4, *([1.0] * (columns - 1))),
        text_align=("LEFT", *(["RIGHT"] * (columns - 1))),
        borders_layout="HORIZONTAL_LINES",
        headings_style=FontFace(emphasis="BOLD", color=MUTED, size_pt=7.5 * pdf.scale, fill_color="#ffffff"),
        line_height=pdf.leading(8),
        padding=(0.8, 1.2),
    ) as grid:
        for row in (table.header, *table.rows):
            grid.row([pdf.t(cell) for cell in row])
    pdf.ln(2)


def _section(pdf: _Pdf, section: Section) -> None:
    # a heading never ends a page alone: it keeps its sentences and the first row of charts with it
    first = pdf.leading(9.5) * min(len(section.sentences), 2) + (_chart_height(pdf) + 3 if section.charts else 0)
    pdf.room(14 + first)
    pdf.ln(1.5)
    pdf.para(section.title, size=12.5, style="B")
    pdf.ln(0.8)
    for i, sentence in enumerate(section.sentences, start=1):
        pdf.para(f"{i}. {sentence}" if section.numbered else sentence, indent=3 if section.numbered else 0)
    if section.sentences:
        pdf.ln(1)
    if section.cards:
        _cards(pdf, section.cards)
    for note in section.notes:
        _note(pdf, note)
    if section.charts:
        _charts(pdf, section.charts)
    if section.table is not None:
        _table(pdf, section.table)


MAX_PAGES = 2
FITS = ((1.0, 2, 0.5), (0.9, 2, 0.4), (0.88, 3, 0.5))
"""(text scale, charts per row, chart height / width), tried in turn until the board fits on MAX_PAGES: text a
size smaller and flatter charts first, then three charts to a row; past the last, it takes the pages it needs."""


def render_pdf(board: Board, *, font: dict[str, Path] | None = None, find_font: bool = True) -> bytes:
    """A built board as PDF bytes, on at most MAX_PAGES pages when a tighter setting can make it fit.

    `font` overrides the DejaVu files found; `find_font=False` forces Helvetica (latin-1).
    """
    files = font or (unicode_font() if find_font else None)
    for fit in FITS:
        pdf = draw(board, font=files, fit=fit)
        if pdf.page_no() <= MAX_PAGES:
            break
    return bytes(pdf.output())


def draw(board: Board, *, font: dict[str, Path] | None, fit: tuple[float, int, float] = FITS[0]) -> FPDF:
    """The board drawn on A4 pages at one of FITS, not yet written out (`page_no()` says how many it took)."""
    pdf = _Pdf(font=font, fit=fit)
    pdf.set_title(pdf.t(f"{board.title} – board report"))
    pdf.add_page()
    pdf.para(board.title, size=18, style="B")
    pdf.para(board.description, size=9, color=MUTED)
    pdf.para(board.facts, size=8, color=MUTED)
    pdf.ln(2.5)
    pdf.use(9.5, "B", "#ffffff")
    word = pdf.t(board.status_word)
    pill = pdf.get_string_width(word) + 7
    top = pdf.get_y()
    pdf.set_fill_color(COLORS[board.status])
    pdf.rect(pdf.l_margin, top, pill, 6.5, style="F", round_corners=True, corner_radius=3)
    pdf.set_xy(pdf.l_margin, top)
    pdf.cell(pill, 6.5, word, align="C")
    pdf.set_xy(pdf.l_margin + pill + 3, top + 0.4)
    pdf.use(9.5)
    pdf.multi_cell(
        pdf.epw - pill - 3, pdf.leading(9.5), pdf.t(board.reason), new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L"
    )
    pdf.set_y(max(pdf.get_y(), top + 6.5) + 2)
    for section in board.sections:
        _section(pdf, section)
    pdf.ln(2)
    for line in board.footnotes:
        pdf.para(line, size=7.5, color=MUTED)
    return pdf


def board_pdf(store: Store, spec: ModelSpec, *, period: str = "month") -> bytes:
    """Build the board report of one model as PDF bytes (one or two A4 pages)."""
    return render_pdf(build_board(store, spec, period=period))
