"""Whether the start of a landing file is delimited text, and a short excerpt for messages.

A binary file named `.csv` (a workbook or archive renamed, a NUL-filled file left by a failed
copy) otherwise reaches the header check, whose message then echoes kilobytes of NUL bytes.
UTF-16 (Excel's "Unicode Text" save) is named as such: the loader reads UTF-8 and Latin-1 only.
"""

from __future__ import annotations

EXCERPT_CHARS = 80
# Magic numbers of the files most often renamed to .csv by mistake.
_SIGNATURES = {
    b"PK\x03\x04": "a zip archive or an Excel workbook (.xlsx)",
    b"\xd0\xcf\x11\xe0": "a legacy Excel workbook (.xls) or another OLE document",
    b"\x1f\x8b": "a gzip archive",
    b"%PDF": "a PDF document",
}
_TEXT_CONTROLS = frozenset(b"\t\n\r\f\v\x1a")  # \x1a: the DOS end-of-file mark some exports add


def excerpt(data: bytes, limit: int = EXCERPT_CHARS) -> str:
    """`repr` of the first bytes, at most `limit` characters: printable whatever the bytes are."""
    shown = repr(data[:limit])
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def _utf16_without_bom(sample: bytes) -> str | None:
    even, odd = sample[0::2], sample[1::2]
    if len(odd) < 2:
        return None
    if odd.count(0) > 0.9 * len(odd) and even.count(0) < 0.1 * len(even):
        return "UTF-16LE"
    if even.count(0) > 0.9 * len(even) and odd.count(0) < 0.1 * len(odd):
        return "UTF-16BE"
    return None


def not_text(head: bytes) -> str | None:
    """Why the first bytes of a file are not delimited text, or None when they are."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        order = "UTF-16LE" if head.startswith(b"\xff\xfe") else "UTF-16BE"
        return (
            f"is {order} text (it starts with a UTF-16 byte-order mark), which the loader does not "
            "read: save it as CSV in UTF-8 (or Latin-1)"
        )
    sample = head[:4096]
    utf16 = _utf16_without_bom(sample)
    if utf16:
        return (
            f"looks like {utf16} text without a byte-order mark (every other byte is NUL), which the "
            "loader does not read: save it as CSV in UTF-8 (or Latin-1)"
        )
    for signature, kind in _SIGNATURES.items():
        if head.startswith(signature):
            return f"looks like a binary file, not text: it starts as {kind} does"
    nuls = head.count(0)
    if b"\x00" in head.split(b"\n", 1)[0] or nuls > len(head) // 100:
        return f"looks like a binary file, not text: {nuls:,} NUL bytes in its first {len(head):,} bytes"
    controls = sum(1 for byte in sample if byte < 0x20 and byte not in _TEXT_CONTROLS)
    if controls > len(sample) // 20:
        return (
            f"looks like a binary file, not text: {controls:,} control characters in its first "
            f"{len(sample):,} bytes"
        )
    return None
