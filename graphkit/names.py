"""Name keys shared by sanctions matching and entity resolution, built on OpenSanctions' rigour.

* ``fold``: one comparable text for any script -- NFKC, HTML entities decoded, traditional
  Chinese simplified (opencc), Chinese written as pinyin (pypinyin), other scripts
  transliterated to ASCII (rigour.text.ascii_text, ICU based), then cased and tokenised by
  rigour.names.normalize_name.
* ``name_tokens``: the tokens of a name as compared: organisation types and legal forms in
  any language removed (rigour.names.remove_org_types, from ISO 20275 and OCCRP lists),
  person prefixes ("Mr", "Dr", "Haji") removed for people.

Every name is cut to MAX_NAME_CHARS before any of this, so that one hostile name cannot make
the work (or the memory) grow without bound; ``truncated`` tells the caller to warn.
"""

from __future__ import annotations

import html
import re
import unicodedata
from functools import cache, lru_cache

#: names longer than this are matched on their first MAX_NAME_CHARS characters (with a warning)
MAX_NAME_CHARS = 1000
#: tokens of one name that are compared (the rest of a very long name is ignored)
MAX_TOKENS = 24

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_ZH_LEGAL = (
    "集团股份有限公司",
    "股份有限公司",
    "有限责任公司",
    "集团有限公司",
    "有限公司",
    "分公司",
    "公司",
)


def truncated(name: str) -> bool:
    """Whether ``name`` is longer than what is matched."""
    return len(name) > MAX_NAME_CHARS


@cache
def _converter():
    import opencc

    return opencc.OpenCC("t2s")


def simplified(text: str) -> str:
    """Traditional Chinese characters as simplified ones (opencc); other text unchanged."""
    return _converter().convert(text) if _CJK.search(text) else text


def pinyin(text: str) -> str:
    """Chinese characters as toneless pinyin, one syllable run per character run (pypinyin)."""
    from pypinyin import lazy_pinyin

    def run(match: re.Match) -> str:
        return " " + "".join(lazy_pinyin(match.group(0))) + " "

    return _CJK.sub(run, text)


def strip_zh_legal_form(text: str) -> str:
    """'丹东华鑫电路有限公司' -> '丹东华鑫电路' (the legal form at the end of a Chinese name)."""
    for form in _ZH_LEGAL:
        if text.endswith(form) and len(text) > len(form):
            return text[: -len(form)]
    return text


@lru_cache(maxsize=200_000)
def fold(name: str) -> str:
    """Lower-case ASCII tokens of a name in any script, single-spaced (see module docstring)."""
    from rigour.names import normalize_name
    from rigour.text import ascii_text

    text = unicodedata.normalize("NFKC", html.unescape(name[:MAX_NAME_CHARS]))
    if _CJK.search(text):
        text = pinyin(strip_zh_legal_form(simplified(text.strip())))
    if not text.isascii():
        text = ascii_text(text)
    return normalize_name(text) or ""


@lru_cache(maxsize=200_000)
def name_tokens(name: str, person: bool = False) -> tuple[str, ...]:
    """The compared tokens of a name: folded, without legal forms (or person prefixes)."""
    from rigour.names import remove_org_types, remove_person_prefixes

    folded = fold(name)
    kept = remove_person_prefixes(folded) if person else remove_org_types(folded, replacement="")
    return tuple(kept.split() or folded.split())[:MAX_TOKENS]
