"""Entity resolution: decide which differently written company names are the same company.

Names are first *normalised* (case, punctuation, width, legal forms such as "Co., Ltd." or
有限公司, abbreviations, plurals, misspelt industry words). Two names then

* **merge** when their normalised forms are equal once spaces are removed ("Dan Dong Hua Xin
  Garment Co Ltd" = "DANDONG HUAXIN GARMENT"), or when they differ only by one typo inside a
  name word that is not itself a different valid pinyin spelling ("Dandnog" ~ "Dandong", but
  "Huaxing" is another company than "Huaxin");
* stay apart but become a **candidate** for an analyst when they are similar but not certain
  (another city word, another trade name, the same name at addresses in different postcode
  areas);
* are **different** otherwise.

An address (its 6-digit Chinese postcode area) or a city vetoes a merge: "Huaxin Garment" in
Dandong 118000 and in Dalian 116001 are two companies. Batches use blocking keys (each name
word and its one-letter deletions, SymSpell-style) so that only names sharing a key are
compared, never all n² pairs.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA, Levenshtein

from graphkit.names import MAX_NAME_CHARS, MAX_TOKENS, simplified
from graphkit.package_data import read_text, read_toml

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

MERGE = "merge"
CANDIDATE = "candidate"
DIFFERENT = "different"

#: token_sort_ratio (0..100) from which a non-merging pair is listed as a candidate
CANDIDATE_SCORE = 80.0
#: shortest name word in which one typo is accepted
TYPO_MIN_LENGTH = 5
#: wordfreq Zipf frequency from which a token is a real word and never spelling-corrected
REAL_WORD_ZIPF = 2.5
#: pinyin readings of a Chinese name tried against a Latin one (polyphonic characters)
MAX_READINGS = 16
#: characters of a name unit used for blocking keys (its deletions grow with the square)
MAX_UNIT_CHARS = 32
#: blocking keys shared by more names than this are skipped (too common to discriminate)
MAX_BLOCK = 200

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af\u3040-\u30ff"
_CJK_RUN = re.compile(f"[{_CJK}]+")
_LATIN_RUN = re.compile(r"[a-z0-9][a-z0-9 .,&'()\-/]*[a-z0-9.)]|[a-z0-9]", re.IGNORECASE)
_NON_WORD = re.compile(f"[^a-z0-9{_CJK}]+")
_POSTCODE = re.compile(r"(?<![\d+\-])(\d{6})(?!\d)")
_ZIP = re.compile(r"(?<![\d\-#])(\d{5})(?:-\d{4})?(?![\d])")
_CA_POSTCODE = re.compile(r"\b([A-Z]\d[A-Z]) ?\d[A-Z]\d\b")
_TO_ORDER = re.compile(
    r"^\W*(?:to\s+(?:the\s+)?order(?:\s+of)?|to\s+order|order\s+of)\b[\s:,.\-]*", re.IGNORECASE
)
_NUMBER = re.compile(r"\d+")


@dataclass(frozen=True)
class Words:
    """The word lists of graphkit/data/company_words.toml and the pinyin syllables."""

    legal_forms: frozenset[str]
    legal_forms_zh: tuple[str, ...]
    abbreviations: dict[str, str]
    generic: frozenset[str]
    #: words whose misspellings are corrected: industry words and long legal forms
    spelled_out: tuple[str, ...]
    #: matches a word made of pinyin syllables only
    pinyin: re.Pattern
    #: Chinese industry words (longest first) and their generic English word
    industry_zh: tuple[tuple[str, str], ...] = ()


@cache
def words() -> Words:
    """Load the word lists shipped as package data (once)."""
    table = read_toml("company_words.toml")
    lines = read_text("pinyin_syllables.txt").splitlines()
    syllables = {s for line in lines if not line.startswith("#") for s in line.split()}
    generic = frozenset(table["generic"]["words"])
    long_forms = {w for w in table["legal_forms"] if len(w) >= TYPO_MIN_LENGTH}
    return Words(
        legal_forms=frozenset(table["legal_forms"]),
        legal_forms_zh=tuple(sorted(table["legal_forms_zh"], key=len, reverse=True)),
        abbreviations=dict(table["abbreviations"]),
        generic=generic,
        spelled_out=tuple(sorted(generic | long_forms)),
        pinyin=_pinyin_pattern(syllables),
        industry_zh=tuple(sorted(table["industry_zh"].items(), key=lambda kv: -len(kv[0]))),
    )


def _pinyin_pattern(syllables: set[str]) -> re.Pattern:
    """A word made of one or more syllables."""
    ordered = sorted(syllables, key=len, reverse=True)
    return re.compile(f"(?:{'|'.join(ordered)})+")


@dataclass(frozen=True)
class Decision:
    """The verdict on one pair of names: MERGE, CANDIDATE or DIFFERENT, with score and reason."""

    verdict: str
    score: float
    reason: str
    #: why the names are surely two companies although similar ('' when not sure): another
    #: place, or another valid pinyin name word ('dandong' vs 'dalian', 'huaxin' vs 'huaxing')
    veto: str = ""


# --- normalisation ----------------------------------------------------------------------


def strip_to_order(name: str) -> str:
    """'TO ORDER OF ACME LTD' -> 'ACME LTD' (a negotiable bill's consignee wording)."""
    return _TO_ORDER.sub("", name or "", count=1).strip()


@cache
def normalise_name(name: str) -> str:
    """The comparable form of a company name: words separated by single spaces.

    Only the first MAX_NAME_CHARS characters count (graphkit.names), so that one hostile
    name cannot make the work grow without bound.
    """
    name = strip_to_order(name[:MAX_NAME_CHARS] if name else "")
    text = unicodedata.normalize("NFKC", simplified(name)).casefold()
    text = _strip_zh_legal_form(_NON_WORD.sub(" ", text).strip())
    tokens = [_canonical_word(t) for t in text.split()]
    tokens = _join_compounds([t for t in tokens if t not in ("and", "the")])
    return " ".join(_strip_legal_forms(tokens))


def compact(normalised: str) -> str:
    """A normalised name without spaces: pinyin spacing no longer matters."""
    return normalised.replace(" ", "")


def name_aliases(name: str) -> list[str]:
    """The script-separated names in one cell: 'Hanil Fiber Co. (한일섬유)' -> both parts."""
    text = unicodedata.normalize("NFKC", name or "")
    cjk = "".join(_CJK_RUN.findall(text))
    latin = " ".join(_LATIN_RUN.findall(_CJK_RUN.sub(" ", text)))
    parts = [p for p in (latin.strip(" ()"), cjk) if normalise_name(p)]
    return parts if len(parts) > 1 else [text.strip()]


def _strip_zh_legal_form(text: str) -> str:
    cjk = text.replace(" ", "")
    if not _CJK_RUN.fullmatch(cjk or "-"):
        return text
    for form in words().legal_forms_zh:
        if cjk.endswith(form) and len(cjk) > len(form):
            return cjk[: -len(form)]
    return cjk


@cache
def _canonical_word(token: str) -> str:
    """Abbreviations written out, plurals reduced, misspelt industry words and legal forms
    corrected."""
    lists = words()
    token = _singular(lists.abbreviations.get(token, token))
    token = lists.abbreviations.get(token, token)
    if token in lists.generic or len(token) < TYPO_MIN_LENGTH + is_pinyin(token):
        return token
    if is_real_word(token):
        return token
    match = process.extractOne(token, lists.spelled_out, scorer=OSA.distance, score_cutoff=1)
    return match[0] if match else token


@cache
def is_real_word(token: str) -> bool:
    """An English word in its own right (wordfreq): 'grade' is not a misspelt 'trade'.

    A word of letters is looked up in the words at or above REAL_WORD_ZIPF (_frequent_words,
    7 MB instead of wordfreq's whole 34 MB table); one with digits, which wordfreq scores
    by its digit pattern, is asked of wordfreq itself.
    """
    if not any(c.isdigit() for c in token):
        return token in _frequent_words()
    from wordfreq import zipf_frequency

    return zipf_frequency(token, "en") >= REAL_WORD_ZIPF


@cache
def _frequent_words() -> frozenset[str]:
    """wordfreq's English words with a Zipf frequency of at least REAL_WORD_ZIPF.

    Streamed from wordfreq's own table (a msgpack list of words per centibel of frequency,
    commonest first, described in wordfreq.read_cBpack), stopping at the threshold.
    """
    import gzip

    import msgpack
    from wordfreq import available_languages

    from graphkit.errors import BackendError

    buckets = round((9 - REAL_WORD_ZIPF) * 100) + 1  # Zipf = 9 + log10(frequency)
    path = available_languages("best")["en"]
    with gzip.open(path, "rb") as packed:
        unpacker = msgpack.Unpacker(packed, raw=False)
        unpacker.read_array_header()
        if unpacker.unpack() != {"format": "cB", "version": 1}:
            raise BackendError(f"{path}: not the wordfreq table format this graphkit reads")
        return frozenset(word for _ in range(buckets) for word in unpacker.unpack())


def _join_compounds(tokens: list[str]) -> list[str]:
    """'sea food' -> 'seafood', 'auto parts' -> 'autopart' when the joined word is listed."""
    generic, out = words().generic, []
    for token in tokens:
        joined = _singular(out[-1] + token) if out else ""
        if joined in generic and (token not in generic or out[-1] not in generic):
            out[-1] = joined
        else:
            out.append(token)
    return out


def _singular(token: str) -> str:
    return (
        token[:-1] if len(token) > 4 and token.endswith("s") and not token.endswith("ss") else token
    )


def _strip_legal_forms(tokens: list[str]) -> list[str]:
    """Drop legal forms from the end, also when spelt in pieces ('g m b h', 'co ltd')."""
    legal = words().legal_forms
    while len(tokens) > 1:
        for size in range(min(4, len(tokens) - 1), 0, -1):
            if "".join(tokens[-size:]) in legal:
                tokens = tokens[:-size]
                break
        else:
            return tokens
    return tokens


@cache
def is_pinyin(word: str) -> bool:
    """Whether ``word`` splits into standard pinyin syllables ('dandong', 'huaxin').

    Customs data drops pinyin apostrophes ("Taian" for Tai'an), so a syllable may start with a
    vowel anywhere in the word.
    """
    return bool(word) and words().pinyin.fullmatch(word) is not None


def units(normalised: str) -> tuple[str, ...]:
    """Name words as compared: each industry word alone, other adjacent words joined."""
    generic, out, run = words().generic, [], ""
    for token in normalised.split():
        if token in generic:
            out += [run, token] if run else [token]
            run = ""
        else:
            run += token
    return tuple(out + [run] if run else out)


def place_of(address: str = "", city: str = "", country: str = "") -> str:
    """A place key for vetoing merges: 'CC:' + the city as written, else the postcode area.

    Postcode areas: a Chinese 6-digit code's first 3 digits, a US ZIP's first 3, a Canadian
    postcode's first 3 characters (its forward sortation area).
    """
    prefix = f"{country.upper()}:" if country else ""
    city_key = compact(normalise_name(city))
    if city_key:
        return prefix + city_key
    text = unicodedata.normalize("NFKC", address or "")[:MAX_NAME_CHARS]
    for pattern, label in ((_POSTCODE, "postcode"), (_CA_POSTCODE, "postcode"), (_ZIP, "zip")):
        codes = pattern.findall(text)
        if codes:
            return f"{prefix}{label} {codes[-1][:3]}xxx"
    return prefix


# --- comparing two names ----------------------------------------------------------------


def compare(name_a: str, name_b: str, place_a: str = "", place_b: str = "") -> Decision:
    """Decide whether two names (with optional place keys from place_of) are one company."""
    return compare_normalised(normalise_name(name_a), normalise_name(name_b), place_a, place_b)


@cache
def pinyin_forms(normalised: str) -> tuple[str, ...]:
    """A normalised Chinese name as pinyin trade name + English industry words, one form per
    reading of its polyphonic characters (at most MAX_READINGS; the commonest first).

    '丹东华鑫服装' -> ('dandonghuaxin garment',); () when the name is not all Chinese.
    """
    if not _CJK_RUN.fullmatch(normalised or "-"):
        return ()
    from itertools import islice, product

    from pypinyin import Style, pinyin  # 55 MB of dictionaries: only for Chinese names

    rest, industry = normalised, []
    while True:
        found = next(((zh, en) for zh, en in words().industry_zh if rest.endswith(zh)), None)
        if found is None or len(rest) == len(found[0]):
            break
        industry.insert(0, found[1])
        rest = rest[: -len(found[0])]
    readings = [r[:2] for r in pinyin(rest[:MAX_TOKENS], style=Style.NORMAL, heteronym=True)]
    forms = (" ".join(["".join(c), *industry]) for c in product(*readings))
    return tuple(f for f in islice(forms, MAX_READINGS) if f.isascii())


def pinyin_form(normalised: str) -> str:
    """The commonest reading of pinyin_forms ('' when not a Chinese name)."""
    forms = pinyin_forms(normalised)
    return forms[0] if forms else ""


def compare_normalised(norm_a: str, norm_b: str, place_a: str = "", place_b: str = "") -> Decision:
    """compare() on names already normalised; a Chinese name is compared with a Latin one in
    each of its pinyin forms (pinyin_forms)."""
    forms_a, forms_b = pinyin_forms(norm_a), pinyin_forms(norm_b)
    if bool(forms_a) == bool(forms_b) or not norm_a or not norm_b:
        return _compare(norm_a, norm_b, place_a, place_b)
    decisions = [
        _compare(a, b, place_a, place_b) for a in forms_a or (norm_a,) for b in forms_b or (norm_b,)
    ]
    best = next((d for d in decisions if d.verdict == MERGE), decisions[0])
    if best.verdict == MERGE:
        return Decision(MERGE, best.score, f"pinyin of the Chinese name: {best.reason}", best.veto)
    return Decision(DIFFERENT, best.score, best.reason, best.veto)


def _compare(norm_a: str, norm_b: str, place_a: str, place_b: str) -> Decision:
    score = float(fuzz.token_sort_ratio(norm_a, norm_b))
    if not norm_a or not norm_b:
        return Decision(DIFFERENT, 0.0, "empty name")
    veto = ""
    if _NUMBER.findall(norm_a) != _NUMBER.findall(norm_b):
        reason = f"different numbers: {norm_a!r} vs {norm_b!r}"
        return Decision(DIFFERENT, score, reason, "number or unit designator")
    same_place = is_placed(place_a) and place_a == place_b
    if compact(norm_a) == compact(norm_b):
        verdict, reason, score = MERGE, "same name after normalisation", 100.0
    elif same_place and sorted(norm_a.split()) == sorted(norm_b.split()):
        verdict, reason = MERGE, "same words in another order, same place"
    else:
        verdict, reason, veto = _compare_units(units(norm_a), units(norm_b))
        if verdict == DIFFERENT and same_place:
            verdict, reason, veto = _compare_units(tuple(sorted(units(norm_a))),
                                                   tuple(sorted(units(norm_b))))  # fmt: skip
            reason = reason.replace("spelling variant", "same place, spelling variant")
        if verdict == DIFFERENT and score >= CANDIDATE_SCORE:
            verdict = CANDIDATE
    if verdict != DIFFERENT and place_a and place_b and _places_differ(place_a, place_b):
        reason = f"{reason}, but different places: {place_a} vs {place_b}"
        return Decision(CANDIDATE, score, reason, "place")
    return Decision(verdict, score, reason, veto)


def is_placed(place: str) -> bool:
    """Whether a place key says more than the country."""
    return bool(place.rpartition(":")[2])


def _places_differ(place_a: str, place_b: str) -> bool:
    """Different countries, postcode areas, or city names more than one typo apart."""
    country_a, _, place_a = place_a.rpartition(":")
    country_b, _, place_b = place_b.rpartition(":")
    if country_a and country_b and country_a != country_b:
        return True
    if not place_a or not place_b:
        return False
    postcodes = place_a.startswith(("postcode", "zip")), place_b.startswith(("postcode", "zip"))
    if postcodes[0] != postcodes[1]:
        return False
    return place_a != place_b and (postcodes[0] or OSA.distance(place_a, place_b) > 1)


def _compare_units(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, str, str]:
    """MERGE when the units differ only by typos, else DIFFERENT with the differing words.

    Returns (verdict, reason, veto); the veto names a difference that makes two companies.
    """
    if len(a) != len(b):
        return DIFFERENT, f"different words: {' '.join(a)!r} vs {' '.join(b)!r}", ""
    typos, generic = [], words().generic
    for unit_a, unit_b in zip(a, b):
        if unit_a == unit_b:
            continue
        if unit_a in generic or unit_b in generic or not _is_typo(unit_a, unit_b):
            reason = f"names differ: {unit_a!r} vs {unit_b!r}"
            return DIFFERENT, reason, _unit_veto(unit_a, unit_b)
        typos.append(f"{unit_a!r} ~ {unit_b!r}")
    return MERGE, "spelling variant: " + ", ".join(typos), ""


def _unit_veto(a: str, b: str) -> str:
    """Why two differing name units are two companies, or '' when a person should judge."""
    generic = words().generic
    if a in generic and b in generic:
        return "other line of business"
    swapped = OSA.distance(a, b) == 1 and Levenshtein.distance(a, b) == 2
    if not swapped and (is_pinyin(a) and is_pinyin(b) or _CJK_RUN.search(a) and _CJK_RUN.search(b)):
        return "other place or trade name"
    return ""


def _is_typo(a: str, b: str) -> bool:
    """One edit in a long enough word, unless both spellings are valid, different pinyin.

    Two swapped neighbouring letters count as a typo even between valid pinyin spellings
    ('dalian' ~ 'dailan'): the commonest slip of the keyboard, rarely two real names.
    """
    if _CJK_RUN.search(a + b) or min(len(a), len(b)) < TYPO_MIN_LENGTH or OSA.distance(a, b) > 1:
        return False
    swapped = Levenshtein.distance(a, b) == 2
    return swapped or not (is_pinyin(a) and is_pinyin(b))


# --- batches ----------------------------------------------------------------------------


@dataclass
class EntityResolution:
    """The outcome of resolving a table of names.

    ``entity`` gives each input row the number of its company; ``merges`` and ``candidates``
    list the decided pairs (row positions a, b of one row per distinct name and place, score,
    reason, veto); ``comparisons`` counts the pairs scored after blocking.
    """

    entity: np.ndarray
    merges: pd.DataFrame
    candidates: pd.DataFrame
    comparisons: int


LINK_REASON = "English and Chinese name given together"


def resolve_names(
    names: pd.Series, places: pd.Series | None = None, links: np.ndarray | None = None
) -> EntityResolution:
    """Group the rows of ``names`` into companies.

    ``places`` (from place_of) vetoes merges between different places; ``links`` is an (m, 2)
    array of row positions known to name the same company (e.g. an English and a Chinese name
    in one record). A name without a place joins a placed company only when all its matches
    lie in one place; otherwise its matches are left to the analyst as candidates.
    """
    import numpy as np
    import pandas as pd

    names = names.fillna("").astype(str).reset_index(drop=True)
    place = np.asarray(places.fillna("") if places is not None else [""] * len(names), dtype=object)
    codes, uniques = pd.factorize(names)
    norm_unique = np.array([normalise_name(n) for n in uniques], dtype=object)
    compact_unique = np.array([compact(n) for n in norm_unique], dtype=object)
    group = pd.MultiIndex.from_arrays([compact_unique[codes], place]).factorize()[0]
    first = pd.Series(np.arange(len(group))).groupby(group).first().to_numpy()
    norm, group_place = norm_unique[codes[first]], place[first]
    pairs = candidate_pairs(norm)
    decided = _decide_pairs(norm, group_place, pairs)
    if links is not None and len(links):
        decided = pd.concat([decided, _link_rows(links, group)], ignore_index=True)
    decided = decided.astype({"a": np.int64, "b": np.int64, "score": float})
    placed = np.array([is_placed(p) for p in group_place], dtype=bool)
    component, ambiguous = _components(decided, placed, len(first))
    decided.loc[ambiguous, "verdict"] = CANDIDATE
    decided.loc[ambiguous, "reason"] += "; the unplaced name matches companies in several places"
    decided["a"], decided["b"] = first[decided["a"]], first[decided["b"]]
    cols = ["a", "b", "score", "reason", "veto"]
    return EntityResolution(
        entity=component[group],
        merges=decided.loc[decided["verdict"] == MERGE, cols].reset_index(drop=True),
        candidates=decided.loc[decided["verdict"] == CANDIDATE, cols].reset_index(drop=True),
        comparisons=len(pairs),
    )


def _link_rows(links: np.ndarray, group: np.ndarray) -> pd.DataFrame:
    """Known links between rows as MERGE decisions between their groups."""
    import numpy as np
    import pandas as pd

    pairs = np.unique(np.sort(group[np.asarray(links)], axis=1), axis=0)
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    return pd.DataFrame(
        {
            "a": pairs[:, 0],
            "b": pairs[:, 1],
            "verdict": MERGE,
            "score": 100.0,
            "reason": LINK_REASON,
            "veto": "",
        }
    )


def _components(decided: pd.DataFrame, placed: np.ndarray, n: int) -> tuple[np.ndarray, pd.Series]:
    """Companies from MERGE pairs; unplaced names join placed ones only when unambiguous.

    Returns each group's component and a mask of the MERGE rows turned into candidates.
    """
    import numpy as np
    import pandas as pd
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    def components(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        graph = coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n))
        return connected_components(graph, directed=False)[1]

    merge = (decided["verdict"] == MERGE).to_numpy()
    a, b = decided["a"].to_numpy(dtype=np.int64), decided["b"].to_numpy(dtype=np.int64)
    cross = merge & (placed[a] != placed[b])
    base = components(a[merge & ~cross], b[merge & ~cross])
    unplaced_end = np.where(placed[a], b, a)[cross]
    placed_end = np.where(placed[a], a, b)[cross]
    attach = pd.DataFrame({"free": base[unplaced_end], "home": base[placed_end]})
    homes = attach.drop_duplicates().groupby("free")["home"].agg(["first", "size"])
    single = homes[homes["size"] == 1]
    relabel = np.arange(n)
    relabel[single.index.to_numpy()] = single["first"].to_numpy()
    ambiguous = np.zeros(len(decided), dtype=bool)
    ambiguous[np.flatnonzero(cross)] = ~attach["free"].isin(single.index).to_numpy()
    return relabel[base], pd.Series(ambiguous, index=decided.index)


@cache
def blocking_keys(normalised: str) -> frozenset[str]:
    """Keys under which a name is compared: each name unit, its one-letter deletions, its tail.

    Bounded per name: the first MAX_TOKENS units, each cut to MAX_UNIT_CHARS characters.
    """
    keys = []
    for unit in units(normalised)[:MAX_TOKENS]:
        if unit in words().generic:
            continue
        unit = unit[:MAX_UNIT_CHARS]
        keys.append(unit)
        keys.append("~" + unit[-5:])
        if len(unit) >= TYPO_MIN_LENGTH and not _CJK_RUN.search(unit):
            keys += [unit[:i] + unit[i + 1 :] for i in range(len(unit))]
    pinyin = pinyin_form(normalised)
    if pinyin:
        keys += blocking_keys(pinyin)
    return frozenset(keys or [compact(normalised)])


def candidate_pairs(normalised: np.ndarray) -> np.ndarray:
    """Pairs (i < j) of names sharing a blocking key, as an (m, 2) array, each pair once."""
    import numpy as np
    import pandas as pd

    keys = [blocking_keys(name) for name in normalised]
    rows = np.repeat(np.arange(len(keys)), [len(k) for k in keys])
    table = pd.DataFrame({"key": [k for ks in keys for k in ks], "row": rows})
    size = table.groupby("key")["row"].transform("size")
    table = table[(size > 1) & (size <= MAX_BLOCK)].sort_values(["key", "row"])
    block = table["key"].factorize()[0]
    members = table["row"].to_numpy()
    pairs = _pairs_within_blocks(block, members)
    return np.unique(pairs, axis=0) if len(pairs) else np.empty((0, 2), dtype=np.int64)


def _pairs_within_blocks(block: np.ndarray, members: np.ndarray) -> np.ndarray:
    """All pairs of members in the same block (block ids sorted), without a Python loop."""
    import numpy as np

    n = len(block)
    ends = np.searchsorted(block, block, side="right")
    counts = ends - np.arange(n) - 1
    left = np.repeat(np.arange(n), counts)
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    right = left + 1 + (np.arange(len(left)) - starts)
    return np.column_stack([members[left], members[right]]).astype(np.int64)


def _decide_pairs(norm: np.ndarray, place: np.ndarray, pairs: np.ndarray) -> pd.DataFrame:
    """Score every blocked pair at C speed, then decide the close ones one by one."""
    import numpy as np
    import pandas as pd

    columns = ["a", "b", "verdict", "score", "reason", "veto"]
    if len(pairs) == 0:
        return pd.DataFrame(columns=columns).astype({"a": int, "b": int, "score": float})
    left, right = norm[pairs[:, 0]], norm[pairs[:, 1]]
    compact_left = [compact(s) for s in left]
    compact_right = [compact(s) for s in right]
    distance = process.cpdist(compact_left, compact_right, scorer=OSA.distance, workers=1)
    ratio = process.cpdist(list(left), list(right), scorer=fuzz.token_sort_ratio, workers=1)
    close = np.flatnonzero((distance <= 2) | (ratio >= CANDIDATE_SCORE))
    rows = []
    for k in close:
        a, b = pairs[k]
        decision = compare_normalised(norm[a], norm[b], place[a], place[b])
        if decision.verdict != DIFFERENT:
            row = (int(a), int(b), decision.verdict, decision.score, decision.reason, decision.veto)
            rows.append(row)
    return pd.DataFrame(rows, columns=columns).astype({"a": int, "b": int, "score": float})
