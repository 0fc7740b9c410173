"""Plain text out of an uploaded file, chosen by its extension (then its MIME type):
text, Markdown and source code as they are; HTML without tags, scripts and styles
(BeautifulSoup over the stdlib parser); JSON pretty-printed; CSV one row a line with
the header's names; PDF (pypdf), DOCX (python-docx) and PPTX (python-pptx) text.

Anything else raises ``ExtractionError("unsupported_file", ...)``; a file of a
supported kind that cannot be read raises ``ExtractionError("invalid_file", why)``.
Pure and synchronous: run it on a worker thread."""

from __future__ import annotations

import csv
import io
import json
import posixpath
import zipfile
from collections.abc import Callable
from typing import Literal

TEXT_EXTENSIONS = frozenset({
    ".txt", ".text", ".md", ".markdown", ".rst", ".log", ".tex", ".org", ".adoc",
    ".py", ".pyi", ".js", ".mjs", ".cjs", ".jsx", ".ts", ".tsx", ".go", ".rs", ".java", ".kt", ".kts", ".scala",
    ".c", ".h", ".cc", ".cpp", ".cxx", ".hpp", ".hh", ".cs", ".m", ".mm", ".swift", ".rb", ".php", ".pl", ".pm",
    ".lua", ".r", ".jl", ".dart", ".ex", ".exs", ".erl", ".hs", ".ml", ".clj", ".el", ".vim", ".groovy",
    ".sh", ".bash", ".zsh", ".fish", ".ps1", ".bat", ".sql", ".css", ".scss", ".sass", ".less", ".vue",
    ".svelte", ".yaml", ".yml", ".toml", ".ini", ".cfg", ".conf", ".env", ".xml", ".proto", ".graphql",
    ".dockerfile", ".makefile", ".cmake", ".gradle", ".tf", ".nix", ".zig", ".v", ".sv", ".vhd", ".asm", ".s",
})
TEXT_FILENAMES = frozenset({"makefile", "dockerfile", "readme", "license", "changelog", "gemfile", "rakefile"})
MIME_EXTENSIONS = {
    "text/html": ".html", "application/xhtml+xml": ".html", "application/json": ".json", "text/csv": ".csv",
    "text/tab-separated-values": ".tsv", "application/pdf": ".pdf", "text/markdown": ".md",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": ".pptx",
}
ErrorCode = Literal["unsupported_file", "invalid_file"]


class ExtractionError(Exception):
    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def decode_text(data: bytes) -> str:
    """UTF-8 (a BOM allowed), UTF-16 with a BOM, else Latin-1; NUL bytes mean binary."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise ExtractionError("invalid_file", f"The file is not valid UTF-16 text: {exc}.") from exc
    if b"\x00" in data:
        raise ExtractionError("invalid_file", "The file holds binary data (NUL bytes), not text.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


_BLOCKS = ["p", "div", "section", "article", "header", "footer", "nav", "aside", "main", "h1", "h2", "h3", "h4",
           "h5", "h6", "li", "ul", "ol", "dl", "dt", "dd", "tr", "table", "pre", "blockquote", "figure", "figcaption",
           "form", "hr", "title"]


def _html(data: bytes) -> str:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(decode_text(data), "html.parser")
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    for tag in soup(["script", "style", "noscript", "template", "head", "svg"]):
        tag.decompose()
    for tag in soup(["br"]):
        tag.replace_with("\n")
    for tag in soup(["td", "th"]):
        tag.insert_after(" | ")
    for tag in soup(_BLOCKS):
        tag.insert_before("\n")
        tag.insert_after("\n")
    lines = (" ".join(line.split()) for line in soup.get_text().splitlines())
    body = "\n".join(line for line in lines if line)
    return f"{title}\n{body}" if title and not body.startswith(title) else body


def _json(data: bytes) -> str:
    try:
        value = json.loads(decode_text(data))
    except json.JSONDecodeError as exc:
        raise ExtractionError("invalid_file", f"The file is not valid JSON: {exc}.") from exc
    return json.dumps(value, indent=2, ensure_ascii=False)


def _delimited(data: bytes, delimiter: str | None) -> str:
    text = decode_text(data)
    if delimiter is None:
        try:
            delimiter = csv.Sniffer().sniff(text[:8192], delimiters=",;\t|").delimiter
        except csv.Error:
            delimiter = ","
    try:
        rows = [row for row in csv.reader(io.StringIO(text), delimiter=delimiter) if any(cell.strip() for cell in row)]
    except csv.Error as exc:
        raise ExtractionError("invalid_file", f"The file is not valid CSV: {exc}.") from exc
    if len(rows) < 2:
        return "\n".join(", ".join(row) for row in rows)
    header, *body = rows
    lines = [", ".join(header)]
    for row in body:
        cells = [f"{name}: {value}" if name else value for name, value in zip(header, row, strict=False)]
        cells += row[len(header):]
        lines.append(", ".join(cells))
    return "\n".join(lines)


def _pdf(data: bytes) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise ExtractionError("invalid_file", "The PDF is encrypted with a password.")
        return "\n\n".join(page.extract_text() or "" for page in reader.pages)
    except ExtractionError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ExtractionError("invalid_file", f"The PDF cannot be read: {exc or type(exc).__name__}.") from exc


def _docx(data: bytes) -> str:
    import docx

    document = docx.Document(io.BytesIO(data))
    parts = [paragraph.text for paragraph in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.append(" | ".join(cell.text for cell in row.cells))
    return "\n".join(parts)


def _pptx(data: bytes) -> str:
    from pptx import Presentation

    parts: list[str] = []
    for number, slide in enumerate(Presentation(io.BytesIO(data)).slides, start=1):
        parts.append(f"Slide {number}")
        for shape in slide.shapes:
            if shape.has_text_frame:
                parts.append(shape.text_frame.text)
            if getattr(shape, "has_table", False) and shape.has_table:
                for row in shape.table.rows:
                    parts.append(" | ".join(cell.text for cell in row.cells))
        if slide.has_notes_slide and slide.notes_slide.notes_text_frame is not None:
            parts.append(slide.notes_slide.notes_text_frame.text)
    return "\n".join(parts)


def _office(reader: Callable[[bytes], str], kind: str) -> Callable[[bytes], str]:
    def read(data: bytes) -> str:
        if not zipfile.is_zipfile(io.BytesIO(data)):
            raise ExtractionError("invalid_file", f"The file is not a valid {kind} document (not a ZIP package).")
        try:
            return reader(data)
        except ExtractionError:
            raise
        except Exception as exc:  # python-docx/pptx raise KeyError, ValueError, lxml errors...
            raise ExtractionError("invalid_file", f"The {kind} document cannot be read: {exc!r}.") from exc
    return read


READERS: dict[str, Callable[[bytes], str]] = {
    ".html": _html, ".htm": _html, ".xhtml": _html,
    ".json": _json,
    ".csv": lambda data: _delimited(data, None),
    ".tsv": lambda data: _delimited(data, "\t"),
    ".pdf": _pdf,
    ".docx": _office(_docx, "DOCX"),
    ".pptx": _office(_pptx, "PPTX"),
}


def kind_of(filename: str, mime_type: str | None = None) -> str | None:
    """The extension whose reader handles the file (``.txt`` for any plain text), or
    None when the file is of no supported kind."""
    base = posixpath.basename(filename.replace("\\", "/")).lower()
    extension = posixpath.splitext(base)[1]
    if extension in READERS:
        return extension
    if extension in TEXT_EXTENSIONS or base in TEXT_FILENAMES:
        return ".txt"
    mime = (mime_type or "").split(";")[0].strip().lower()
    if mime in MIME_EXTENSIONS:
        return MIME_EXTENSIONS[mime]
    if mime.startswith("text/") or mime in ("application/x-sh", "application/javascript", "application/xml"):
        return ".txt"
    return None


def extract_text(data: bytes, filename: str, mime_type: str | None = None) -> str:
    """The file's text; ``ExtractionError`` when its kind is not supported, it cannot
    be parsed, or it holds no text at all."""
    kind = kind_of(filename, mime_type)
    if kind is None:
        raise ExtractionError(
            "unsupported_file",
            f"Files of this type ({filename!r}, {mime_type or 'no MIME type'}) cannot be searched; supported are"
            " text, Markdown, HTML, JSON, CSV, PDF, DOCX, PPTX and source code files.",
        )
    text = READERS.get(kind, decode_text)(data)
    if not text.strip():
        raise ExtractionError("invalid_file", "No text could be extracted from the file.")
    return text
