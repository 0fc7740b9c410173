from __future__ import annotations

import pytest

from switchyard.retrieval.extract import ExtractionError, extract_text, kind_of
from tests.retrieval.documents import docx_file, pdf, pptx_file

HTML = b"""<!doctype html><html><head><title>Quarterly report</title><style>p {color: red}</style>
<script>var secret = "do not index";</script></head>
<body><h1>Revenue grew</h1><p>Sales of <b>widgets</b> rose 12%.</p><noscript>enable js</noscript></body></html>"""


@pytest.mark.parametrize(("filename", "data", "present", "absent"), [
    ("notes.txt", "plain caf\u00e9 text".encode(), ["plain caf\u00e9 text"], []),
    ("latin.txt", "na\u00efve".encode("latin-1"), ["na\u00efve"], []),
    ("bom.txt", "\ufeffwith bom".encode("utf-8"), ["with bom"], ["\ufeff"]),
    ("utf16.txt", "sixteen bits".encode("utf-16"), ["sixteen bits"], []),
    ("README.md", b"# Title\n\nSome *markdown* text.", ["# Title", "*markdown*"], []),
    ("page.html", HTML, ["Quarterly report\nRevenue grew\nSales of widgets rose 12%."],
     ["secret", "color: red", "<p>", "enable js"]),
    ("data.json", b'{"name": "Ada", "langs": ["en", "fr"]}', ['"name": "Ada"', '  "langs": [\n    "en"'], []),
    ("table.csv", b"city,population\nParis,2100000\nLyon,520000\n",
     ["city, population", "city: Paris, population: 2100000", "city: Lyon"], []),
    ("table.tsv", b"a\tb\n1\t2\n", ["a: 1, b: 2"], []),
    ("main.py", b"def add(a, b):\n    return a + b\n", ["def add(a, b):"], []),
    ("app.ts", b"export const x: number = 1;", ["export const x"], []),
    ("lib.rs", b"fn main() {}", ["fn main()"], []),
    ("Main.java", b"class Main {}", ["class Main"], []),
    ("x.go", b"package main", ["package main"], []),
    ("s.css", b"body { margin: 0 }", ["margin"], []),
    ("paper.tex", b"\\section{Intro}", ["\\section{Intro}"], []),
    ("run.sh", b"#!/bin/sh\necho hi", ["echo hi"], []),
    ("Makefile", b"all:\n\tcc x.c", ["cc x.c"], []),
    ("doc.pdf", pdf("Hello from a PDF", "second line (with parens)"),
     ["Hello from a PDF", "second line (with parens)"], []),
    ("doc.docx", docx_file("First paragraph.", "Second paragraph.", table=[["k", "v"], ["alpha", "beta"]]),
     ["First paragraph.", "Second paragraph.", "alpha | beta"], []),
    ("deck.pptx", pptx_file(("Roadmap", "Ship the retrieval API"), ("Risks", "Latency"), notes="speaker notes"),
     ["Slide 1", "Roadmap", "Ship the retrieval API", "Risks", "speaker notes", "textbox words"], []),
])
def test_extracts_every_kind(filename: str, data: bytes, present: list[str], absent: list[str]) -> None:
    text = extract_text(data, filename)
    for fragment in present:
        assert fragment in text
    for fragment in absent:
        assert fragment not in text


def test_mime_type_decides_when_the_name_does_not() -> None:
    assert kind_of("upload", "text/html; charset=utf-8") == ".html"
    assert kind_of("upload", "application/pdf") == ".pdf"
    assert kind_of("notes", "text/plain") == ".txt"
    assert extract_text(b"<p>hi <i>there</i></p><p>again</p>", "blob", "text/html") == "hi there\nagain"


@pytest.mark.parametrize(("filename", "data", "code", "why"), [
    ("photo.png", b"\x89PNG\r\n\x1a\n\x00\x00", "unsupported_file", "cannot be searched"),
    ("archive.zip", b"PK\x03\x04", "unsupported_file", "cannot be searched"),
    ("noext", b"hello", "unsupported_file", "cannot be searched"),
    ("doc.pdf", b"%PDF-1.4 this is not really a pdf", "invalid_file", "PDF cannot be read"),
    ("doc.docx", b"not a zip at all", "invalid_file", "not a valid DOCX"),
    ("deck.pptx", docx_file("a word file renamed"), "invalid_file", "PPTX document cannot be read"),
    ("data.json", b'{"open": ', "invalid_file", "not valid JSON"),
    ("binary.txt", b"abc\x00def", "invalid_file", "binary data"),
    ("empty.md", b"   \n\n", "invalid_file", "No text"),
    ("blank.pdf", pdf(), "invalid_file", "No text"),
])
def test_errors_say_why(filename: str, data: bytes, code: str, why: str) -> None:
    with pytest.raises(ExtractionError) as caught:
        extract_text(data, filename, "application/octet-stream")
    assert caught.value.code == code
    assert why in caught.value.message
