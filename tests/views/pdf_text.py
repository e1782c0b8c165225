"""Reading a PDF back for the tests: its pages' text as pypdf extracts it."""

from __future__ import annotations

import io

from pypdf import PdfReader


def pdf_pages(data: bytes) -> list[str]:
    """The text of each page of the PDF `data`."""
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def pdf_text(data: bytes) -> str:
    """All the PDF's text with every run of white space (line wraps included) read as one space."""
    return " ".join(" ".join(pdf_pages(data)).split())
