"""Documents sent to customers: letters rendered from Jinja2 templates in
``config/templates/`` as Markdown, and laid out from that Markdown as PDF.

Pure functions of the data they are given; no database.
"""

from backend.documents.letters import (
    LetterError,
    PlanLetter,
    format_day,
    format_money,
    markdown_to_pdf,
    mask_card,
    render_markdown,
    render_pdf,
)

__all__ = [
    "LetterError",
    "PlanLetter",
    "format_day",
    "format_money",
    "markdown_to_pdf",
    "mask_card",
    "render_markdown",
    "render_pdf",
]
