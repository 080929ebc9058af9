"""Which encoding a file that is not UTF-8 is likely in, to tell the user (graphkit reads
UTF-8 only, unless told otherwise: ``graphkit screen --encoding``).

Legacy encodings decode each other's bytes (GB18030 decodes almost any byte string, Big5
text included), so each candidate that decodes the file's first bytes is scored by how
typical its text is: the share of non-ASCII characters that are common in that encoding
(GB2312 hanzi for GB18030, Big5 level-1 hanzi for Big5, kana and level-1 kanji for
Shift-JIS, Hangul for EUC-KR, Latin letters for Windows-1252). The best score wins; ties
go to the earlier candidate (EUC-KR first: Chinese text rarely decodes as EUC-KR, and
Hangul read as GB18030 looks like common hanzi). Big5 read as GB18030 lands on kana,
Greek, box drawing and rare GBK extension characters, so the two are told apart.
"""

from __future__ import annotations

import codecs
import unicodedata
from collections.abc import Callable
from pathlib import Path

#: bytes looked at to guess
SAMPLE = 1 << 20


def _in_rows(codec: str, first: int, last: int) -> Callable[[str], bool]:
    """Whether a character's encoding in ``codec`` lies in bytes ``first``..``last``."""

    def typical(char: str) -> bool:
        try:
            code = int.from_bytes(char.encode(codec), "big")
        except UnicodeEncodeError:
            return False
        return first <= code <= last

    return typical


def _korean(char: str) -> bool:
    return "\uac00" <= char <= "\ud7a3"


def _latin(char: str) -> bool:
    return unicodedata.category(char).startswith("L") and char < "\u0250"


#: (codec, name told to the user, what a typical non-ASCII character of it is)
LIKELY_ENCODINGS = (
    ("euc_kr", "EUC-KR (Korean)", _korean),
    ("gb18030", "GB18030/GBK (Simplified Chinese)", _in_rows("gb2312", 0xA1A1, 0xF7FE)),
    ("big5", "Big5 (Traditional Chinese)", _in_rows("big5", 0xA140, 0xC67E)),
    ("shift_jis", "Shift-JIS (Japanese)", _in_rows("shift_jis", 0x8140, 0x9872)),
    ("cp1252", "Windows-1252 (Western European)", _latin),
)


def guess_encoding(data: bytes) -> str:
    """The likely encoding of ``data`` (a file's first bytes) as a name for people, or ''."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "UTF-16"
    if b"\x00" in data[:SAMPLE]:
        return "binary data (not text)"
    best, best_score = "", -1.0
    for codec, name, typical in LIKELY_ENCODINGS:
        text = _decoded(data[:SAMPLE], codec)
        if text is None:
            continue
        wide = [c for c in text if ord(c) > 0x7F]
        score = sum(map(typical, wide)) / len(wide) if wide else 0.0
        if score > best_score:
            best, best_score = name, score
    return best


def _decoded(data: bytes, codec: str) -> str | None:
    """``data`` decoded (a character cut at the end of a sample is fine), or None."""
    try:
        return codecs.getincrementaldecoder(codec)().decode(data, final=False)
    except UnicodeDecodeError:
        return None


def read_utf8(path: str | Path, what: str = "file") -> str:
    """The text of the UTF-8 file ``path`` (BOM allowed); InvalidInput naming the path when
    it is a folder, empty, or not UTF-8 (with a guess of its encoding)."""
    from graphkit.errors import InvalidInput, Problem

    path = Path(path)
    if path.is_dir():
        raise InvalidInput([Problem(str(path), None, None, f"is a folder, expected a {what}")])
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        guess = guess_encoding(data)
        hint = f"; it looks like {guess}" if guess else ""
        message = f"file is not UTF-8 (invalid byte at offset {exc.start}){hint}; save as UTF-8"
        row = data.count(b"\n", 0, exc.start) + 1
        raise InvalidInput([Problem(str(path), row, None, message)]) from None
    if not text.strip():
        raise InvalidInput([Problem(str(path), None, None, "file is empty")])
    return text
