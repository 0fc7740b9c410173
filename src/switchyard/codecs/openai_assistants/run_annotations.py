"""The annotations a run adds to its answer's text: ``file_citation`` for the files a
search found, ``file_path`` for the files the code wrote. Each function extends the text
block (``{"value", "annotations"}``) in place and returns the text it appended."""

from __future__ import annotations

from typing import Any

SANDBOX_PREFIX = "sandbox:/mnt/data/"


def cite_files(text: dict[str, Any], files: dict[str, str]) -> str:
    """A ``【n†filename】`` marker per file (id → name) at the end of a non-empty answer,
    each with its ``file_citation`` annotation over the marker."""
    if not files or not text["value"]:
        return ""
    added = ""
    for n, (file_id, filename) in enumerate(files.items()):
        marker = f"【{n}†{filename}】"
        start = len(text["value"]) + len(added)
        added += marker
        text["annotations"].append({"type": "file_citation", "text": marker, "file_citation": {"file_id": file_id},
                                    "start_index": start, "end_index": start + len(marker)})
    text["value"] += added
    return added


def link_files(text: dict[str, Any], files: dict[str, str]) -> str:
    """A ``file_path`` annotation per file (id → name) over the answer's mention of
    ``sandbox:/mnt/data/<name>``; a file not mentioned gets a ``[name](sandbox:/mnt/data/<name>)``
    link appended, annotated the same way."""
    added = ""
    for file_id, filename in files.items():
        path = SANDBOX_PREFIX + filename
        start = text["value"].find(path)
        if start < 0:
            start = len(text["value"]) + len(added) + len(f"\n[{filename}](")
            added += f"\n[{filename}]({path})"
        text["annotations"].append({"type": "file_path", "text": path, "file_path": {"file_id": file_id},
                                    "start_index": start, "end_index": start + len(path)})
    text["value"] += added
    return added
