"""Address screening: resolve a messy address to a province (or country) with the evidence.

Independent signals are found in the text — place names in every script and spelling,
postal codes, phone area codes, Unified Social Credit Codes, ISO codes — each pointing at a
*location* (a Chinese province-level division, a foreign region such as North Korea, or a
country). Each location collects the weight of the signals that point at it; the best
supported location wins and every signal is reported as agreeing or not. Street names
("Dalian Road") and ethnic words ("朝鲜族") are recognised and never count as a location.
Korean personal names are never evidence: the gazetteer only holds places.
"""

from __future__ import annotations

import csv
import dataclasses
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files

DEFAULT_SCOPE: frozenset[str] = frozenset({"liaoning", "jilin", "north_korea"})
#: below this confidence an address is never in scope
MIN_CONFIDENCE = 0.25
#: scope aliases accepted on the command line
SCOPE_ALIASES = {"russia_far_east": "russian_far_east", "dprk": "north_korea"}

NE_PROVINCES = ("21", "22", "23")
LEVEL_RANK = {"province": 3, "city": 2, "county": 1}
BASE_WEIGHT = {"province": 3.0, "city": 3.0, "county": 2.0}
WEIGHTS = {
    "postal_context": 2.0,
    "postal_bare": 1.0,
    "postal_short": 1.5,
    "phone": 2.0,
    "uscc": 2.0,
    "iso": 3.0,
    "country": 2.0,
    "country_hint": 1.5,
}
FUZZY_FACTOR = 0.7
#: a Latin name at the end of an address weighs this much more than one at the start
POSITION_BONUS = 0.25
SEGMENT = re.compile(r"[^,;|\n]+")

STREET_WORDS = frozenset(
    [
        "road",
        "rd",
        "street",
        "st",
        "avenue",
        "ave",
        "lu",
        "jie",
        "dajie",
        "dadao",
        "lane",
        "ln",
        "boulevard",
        "blvd",
        "hutong",
        "xiang",
        "alley",
        "dao",
    ]
)
DIRECTION_WORDS = frozenset(
    [
        "north",
        "south",
        "east",
        "west",
        "middle",
        "n",
        "s",
        "e",
        "w",
        "bei",
        "nan",
        "dong",
        "xi",
        "zhong",
    ]
)
ADMIN_WORDS = {
    "province": "province",
    "sheng": "province",
    "prov": "province",
    "city": "city",
    "shi": "city",
    "prefecture": "city",
    "district": "county",
    "qu": "county",
    "county": "county",
    "xian": "county",
    "banner": "county",
}
CJK_STREET = re.compile(r"[东西南北中東]?(?:路|街|大街|道|大道|巷|胡同)")
CJK_CHAR = re.compile(r"[\u3400-\u9fff]")
LATIN_TOKEN = re.compile(r"[a-z]+")
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
USCC = re.compile(r"(?<![0-9A-Z])([0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10})(?![0-9A-Z])")
ISO = re.compile(r"\bcn-([a-z]{2}|\d{2})\b")
PHONE = re.compile(
    r"(?:\+\s*86[\s\-.]*\(?0?|(?<!\d)86[\s\-]+\(?0?|\(0|(?<![\d+])0)(\d{2,3})\)?[\s\-.]*"
    r"(\d{3,4}[\s\-.]?\d{4})(?!\d)"
)
NUMBER = re.compile(r"(?<![\d\-])(\d{5,6})(?![\d\-])")
POSTAL_CONTEXT = re.compile(
    r"(?:post\s*code|postal\s*code|zip(?:\s*code)?|p\.?c\.?|邮编|邮政编码)\W*$"
)
NUMBER_CONTEXT = re.compile(
    r"(?:order|po|p\.o\.|invoice|inv|ref|no|item|qty|account|acct|batch|contract|tel|phone|fax"
    r"|mobile|id|#|订单|合同|电话|编号)\W*$"
)


@dataclass(frozen=True, slots=True)
class Signal:
    """One piece of evidence: what matched, where it points, whether it agreed with the result."""

    kind: str
    matched_text: str
    province: str
    agreed: bool


@dataclass(frozen=True, slots=True)
class Resolution:
    """Where an address is: province (or country name), ISO country, scope, confidence, evidence."""

    province: str
    country: str
    in_scope: bool
    confidence: float
    evidence: tuple[Signal, ...]


@dataclass(frozen=True, slots=True)
class Location:
    key: str
    name: str
    country: str
    scope_key: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "scope_key", slug(self.name))


@dataclass(frozen=True, slots=True)
class Entry:
    """A gazetteer entry a name can stand for."""

    location: str
    code: str
    level: str
    kind: str
    weight: float


@dataclass(slots=True)
class Mention:
    """A signal found in the text, before it is weighed against the others."""

    kind: str
    text: str
    entries: tuple[Entry, ...]
    weight: float
    street: bool = False
    #: character offset of a Latin name (later names weigh more); -1 for other signals
    offset: int = -1
    locations: frozenset[str] = frozenset()
    primary: str = ""

    def __post_init__(self) -> None:
        if not self.locations:
            self.locations = frozenset(e.location for e in self.entries)
            self.primary = _primary_entry(self.entries).location

    def placed(self, start: int, length: int) -> Mention:
        """This segment-level mention placed in the whole text, with its position bonus."""
        if self.offset < 0:
            return self
        where = start + self.offset
        weight = self.weight * (1.0 + POSITION_BONUS * where / max(length, 1))
        return Mention(
            self.kind,
            self.text,
            self.entries,
            weight,
            self.street,
            where,
            self.locations,
            self.primary,
        )


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def fold_latin(text: str) -> str:
    """Lower-case, strip tones and diacritics (Dāndōng -> dandong, Sinŭiju -> sinuiju)."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def squash(name: str) -> str:
    """Lookup key of a Latin name (letters only): "Ji'an" -> "jian", "Liao-ning" -> "liaoning"."""
    return "".join(LATIN_TOKEN.findall(fold_latin(name)))


def uscc_check_char(first17: str) -> str:
    """The GB 32100-2015 check character of an 18-character Unified Social Credit Code."""
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(first17[:17], USCC_WEIGHTS, strict=True))
    return USCC_CHARS[(31 - total % 31) % 31]


def is_valid_uscc(code: str) -> bool:
    code = code.upper()
    return bool(USCC.fullmatch(code)) and uscc_check_char(code[:17]) == code[17]


# --- gazetteer -----------------------------------------------------------------------------


def _read(name: str) -> list[dict[str, str]]:
    with files("graphkit").joinpath("data", name).open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


class Gazetteer:
    """All names, codes and numbers the resolver knows, indexed for fast lookup."""

    def __init__(self) -> None:
        self.locations: dict[str, Location] = {}
        self.latin: dict[str, list[Entry]] = defaultdict(list)
        self.latin_with_suffix: dict[str, list[Entry]] = defaultdict(list)
        self.cjk: dict[str, list[Entry]] = defaultdict(list)
        self.country_names: dict[str, str] = {}
        self.postal: dict[str, str] = {}
        self.postal_prefecture: dict[str, str] = {}
        self.phone: dict[str, str] = {}
        self.iso: dict[str, str] = {}
        self.max_tokens = 1
        self._load_provinces()
        self._load_regions()
        self._load_divisions()
        self._load_prefecture_codes()
        self._load_names("alias_names.csv")
        self._load_names("places_extra.csv")
        self._load_countries()
        self.cjk_lengths = _lengths_by_first_char(self.cjk)
        self.deletions = _deletion_index(self._fuzzy_keys())
        self.latin_prefixes = {
            key[:n]
            for index in (self.latin, self.latin_with_suffix)
            for key in index
            for n in range(1, len(key) + 1)
        }

    # locations ---------------------------------------------------------------------------
    def _load_provinces(self) -> None:
        for row in _read("provinces.csv"):
            key = row["code"][:2]
            self.locations[key] = Location(key, row["name_en"], row["country"])
            self.iso[row["iso"].lower()] = key
            self.iso[f"cn-{key}"] = key
            for prefix in filter(None, row["postal_prefixes"].split(";")):
                self.postal[prefix] = key
            entry = Entry(key, row["code"], "province", "province", BASE_WEIGHT["province"])
            for name in [row["name_en"], *filter(None, row["aliases"].split(";"))]:
                self.latin[squash(name)].append(entry)

    def _load_regions(self) -> None:
        for row in _read("regions.csv"):
            self.locations[row["key"]] = Location(row["key"], row["name"], row["country"])

    def _load_countries(self) -> None:
        for row in _read("countries.csv"):
            iso = row["iso"]
            key = row["region"] or iso
            self.locations.setdefault(key, Location(key, row["name"], iso))
            self.country_names[iso.lower()] = key
            entry = Entry(key, "", "province", "country", WEIGHTS["country"])
            for name in [row["name"], *filter(None, row["aliases"].split(";"))]:
                self._add_name(name, entry)
                self.country_names[squash(name) or name] = key

    def location_of(self, target: str) -> str:
        """Location key of a gazetteer target: a GB/T 2260 code, a region key or an ISO country."""
        if target.isdigit():
            return target[:2]
        if target not in self.locations:
            self.locations[target] = Location(target, target, target)
        return target

    # names -------------------------------------------------------------------------------
    def _load_divisions(self) -> None:
        for row in _read("divisions.csv"):
            level = "city" if row["level"] == "prefecture" else row["level"]
            code, province = row["code"], row["code"][:2]
            if level == "province":
                names_cjk = {
                    row["name_zh"],
                    row["short_zh"],
                    row["name_zh_trad"],
                    row["short_zh_trad"],
                }
                entry = Entry(province, code, level, "province", BASE_WEIGHT[level])
                self.latin[row["pinyin"]].append(entry)
                for name in names_cjk:
                    self.cjk[name].append(entry)
                continue
            entry = Entry(province, code, level, level, BASE_WEIGHT[level])
            full = {row["name_zh"], row["name_zh_trad"]}
            short = {row["short_zh"], row["short_zh_trad"]}
            major = level == "city" or province in NE_PROVINCES
            for name in full | (short if major else set()):
                if len(name) >= 2:
                    self.cjk[name].append(entry)
            target = self.latin if major else self.latin_with_suffix
            target[row["pinyin"]].append(entry)

    def _load_prefecture_codes(self) -> None:
        for row in _read("prefecture_codes.csv"):
            self.postal_prefecture[row["postal_prefix"]] = row["code"]
            self.phone[row["phone_code"].lstrip("0")] = row["code"]
            entry = Entry(row["code"][:2], row["code"], "city", "city", BASE_WEIGHT["city"])
            key = squash(row["name_en"])
            if entry not in self.latin[key]:
                self.latin[key].append(entry)
        for row in _read("phone_codes_other.csv"):
            self.phone[row["phone_code"].lstrip("0")] = row["code"]

    def _load_names(self, filename: str) -> None:
        for row in _read(filename):
            location = self.location_of(row["target"])
            level = "city" if row["kind"] not in ("province", "country") else "province"
            weight = BASE_WEIGHT[level] * float(row["weight"])
            self._add_name(row["name"], Entry(location, row["target"], level, row["kind"], weight))

    def _add_name(self, name: str, entry: Entry) -> None:
        index = self.cjk if CJK_CHAR.search(name) else self.latin
        key = name if index is self.cjk else squash(name)
        if any(e.location == entry.location and e.code == entry.code for e in index.get(key, ())):
            return  # the same place under a name the divisions already give it
        if index is self.cjk:
            self.cjk[name].append(entry)
        else:
            self.latin[squash(name)].append(entry)
            self.max_tokens = max(self.max_tokens, len(LATIN_TOKEN.findall(fold_latin(name))))

    def _fuzzy_keys(self) -> list[str]:
        """Names worth matching despite one typo: northeastern provinces and cities, North Korea."""
        keys = []
        for key, entries in self.latin.items():
            if len(key) >= 5 and any(_fuzzy_worthy(e) for e in entries):
                keys.append(key)
        return keys

    def display(self, location: str) -> str:
        return self.locations[location].name


def _fuzzy_worthy(entry: Entry) -> bool:
    northeast = entry.location in NE_PROVINCES and entry.level in ("province", "city")
    return (northeast or entry.location in ("north_korea", "russian_far_east")) and (
        entry.weight >= BASE_WEIGHT["city"]
    )


def _lengths_by_first_char(index: dict[str, list[Entry]]) -> dict[str, tuple[int, ...]]:
    lengths: dict[str, set[int]] = defaultdict(set)
    for name in index:
        lengths[name[0]].add(len(name))
    return {c: tuple(sorted(n, reverse=True)) for c, n in lengths.items()}


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def _deletion_index(keys: list[str]) -> dict[str, set[str]]:
    index: dict[str, set[str]] = defaultdict(set)
    for key in keys:
        index[key].add(key)
        for deleted in _deletions(key):
            index[deleted].add(key)
    return index


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    return Gazetteer()


def known_scope_keys() -> set[str]:
    return {loc.scope_key for loc in gazetteer().locations.values()}


def parse_scope(text: str | None) -> frozenset[str]:
    """Parse 'liaoning,jilin,north_korea' into a scope; unknown names raise ValueError."""
    if not text:
        return DEFAULT_SCOPE
    keys = {SCOPE_ALIASES.get(slug(k), slug(k)) for k in text.split(",") if k.strip()}
    unknown = sorted(keys - known_scope_keys())
    if unknown:
        raise ValueError(f"unknown scope name(s): {', '.join(unknown)}")
    return frozenset(keys)


# --- finding mentions ----------------------------------------------------------------------


def find_mentions(text: str) -> list[Mention]:
    """Every signal in the text: names (Latin and CJK) and numbers.

    The text is read in comma-separated segments, each looked up in a cache: import records
    repeat the same city, province and country segments over and over.
    """
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    mentions = []
    for segment in SEGMENT.finditer(text):
        for mention in _segment_mentions(segment.group()):
            mentions.append(mention.placed(segment.start(), len(text)))
    return mentions


@lru_cache(maxsize=200_000)
def _segment_mentions(segment: str) -> tuple[Mention, ...]:
    gaz = gazetteer()
    mentions = _latin_mentions(segment, gaz)
    if CJK_CHAR.search(segment):
        mentions += _cjk_mentions(segment, gaz)
    return tuple(mentions + _number_mentions(segment, gaz))


def _latin_mentions(text: str, gaz: Gazetteer) -> list[Mention]:
    folded = fold_latin(text)
    tokens = [(m.group(), m.start()) for m in LATIN_TOKEN.finditer(folded)]
    mentions, i, starts = [], 0, gaz.latin_prefixes
    while i < len(tokens):
        if tokens[i][0] not in starts and len(tokens[i][0]) < 6:
            i += 1
            continue
        found = _longest_latin(tokens, i, gaz)
        if found is None:
            i += 1
            continue
        span, entries, fuzzy = found
        end = i + span
        level = _admin_word_at(tokens, end)
        entries = _prefer_level(entries, level, tokens, i, end, gaz)
        street_end = _street_word_after(tokens, end)
        last = street_end if street_end is not None else end - 1
        start_char, stop_char = tokens[i][1], tokens[last][1] + len(tokens[last][0])
        source = text if len(text) == len(folded) else folded
        matched = source[start_char:stop_char]
        weight = max(e.weight for e in entries) * (FUZZY_FACTOR if fuzzy else 1.0)
        kind = _primary_entry(entries).kind + (" (typo)" if fuzzy else "")
        street = street_end is not None
        mentions.append(Mention(kind, matched, tuple(entries), weight, street, start_char))
        i = end
    return mentions


def _longest_latin(tokens, i, gaz: Gazetteer):
    """The longest run of tokens from i forming a known name: (span, entries, fuzzy) or None.

    Joining stops as soon as the joined text is no prefix of any name, so ordinary words cost
    one set lookup.
    """
    best, joined = None, ""
    for span in range(1, min(gaz.max_tokens, len(tokens) - i) + 1):
        joined += tokens[i + span - 1][0]
        if joined not in gaz.latin_prefixes:
            break
        if joined in gaz.latin:
            best = (span, gaz.latin[joined], False)
        elif joined in gaz.latin_with_suffix and _admin_word_at(tokens, i + span) == "county":
            best = (span, gaz.latin_with_suffix[joined], False)
    if best is None and len(tokens[i][0]) >= 6:
        match = _fuzzy_lookup(tokens[i][0])
        if match:
            best = (1, gaz.latin[match], True)
    return best


def _admin_word_at(tokens, j: int) -> str | None:
    return ADMIN_WORDS.get(tokens[j][0]) if j < len(tokens) else None


@lru_cache(maxsize=100_000)
def _fuzzy_lookup(token: str) -> str | None:
    """The name within one edit (insertion, deletion, substitution, transposition) of token.

    Several near names are accepted only when they all mean the same place ("dalien" is near
    Dalian, Talien and Dairen); the division's own name is then preferred.
    """
    gaz = gazetteer()
    found = set(gaz.deletions.get(token, ()))
    for deleted in _deletions(token):
        found |= gaz.deletions.get(deleted, set())
    places = {frozenset(e.location for e in gaz.latin[key]) for key in found}
    if len(places) != 1:
        return None
    return min(found, key=lambda key: (_primary_entry(gaz.latin[key]).kind not in LEVEL_RANK, key))


def _prefer_level(entries, level, tokens, i, end, gaz: Gazetteer) -> list[Entry]:
    """Narrow a name's entries by a following admin word ("Chaoyang District" -> districts)."""
    entries = list(entries)
    if level is None:
        return entries
    key = "".join(t for t, _ in tokens[i:end])
    if level == "county":
        entries = [e for e in entries if e.level == "county"] + gaz.latin_with_suffix.get(key, [])
    elif level == "city":
        with_cities = entries + gaz.latin_with_suffix.get(key, [])
        entries = [e for e in with_cities if e.level == "city" or e.code[-2:] >= "81"] or entries
    else:
        entries = [e for e in entries if e.level == "province"] or entries
    return entries or list(gaz.latin["".join(t for t, _ in tokens[i:end])])


def _street_word_after(tokens, end: int) -> int | None:
    """Index of a street word following a name (maybe after a direction word), else None."""
    j = end
    if j < len(tokens) and tokens[j][0] in DIRECTION_WORDS and j + 1 < len(tokens):
        j += 1
    return j if j < len(tokens) and tokens[j][0] in STREET_WORDS else None


def _cjk_mentions(text: str, gaz: Gazetteer) -> list[Mention]:
    mentions, i = [], 0
    while i < len(text):
        length = _longest_cjk(text, i, gaz)
        if not length:
            i += 1
            continue
        name, after = text[i : i + length], text[i + length : i + length + 3]
        if not after.startswith("族"):
            entries = tuple(gaz.cjk[name])
            street = CJK_STREET.match(after)
            shown = name + street.group() if street else name
            weight = max(e.weight for e in entries)
            kind = _primary_entry(entries).kind
            mentions.append(Mention(kind, shown, entries, weight, bool(street)))
        i += length
    return mentions


def _longest_cjk(text: str, i: int, gaz: Gazetteer) -> int:
    for length in gaz.cjk_lengths.get(text[i], ()):
        if text[i : i + length] in gaz.cjk:
            return length
    return 0


DIGITS = re.compile(r"\d{3}")


def _number_mentions(text: str, gaz: Gazetteer) -> list[Mention]:
    lowered = text.lower()
    mentions = _iso_mentions(lowered, gaz) if "cn-" in lowered else []
    if not DIGITS.search(text):
        return mentions
    mentions += _uscc_mentions(text.upper(), gaz)
    phones = _phone_mentions(lowered, gaz)
    taken = [span for span, _ in phones]
    mentions += [m for _, m in phones if m is not None]
    for match in NUMBER.finditer(lowered):
        if not any(a <= match.start() < b for a, b in taken):
            mention = _postal_mention(match, lowered, gaz)
            if mention:
                mentions.append(mention)
    return mentions


def _uscc_mentions(upper: str, gaz: Gazetteer) -> list[Mention]:
    mentions = []
    for match in USCC.finditer(upper):
        code = match.group(1)
        division = code[2:8]
        if uscc_check_char(code[:17]) == code[17] and division[:2] in gaz.locations:
            entry = Entry(division[:2], division, "city", "uscc", WEIGHTS["uscc"])
            mentions.append(Mention("uscc", code, (entry,), WEIGHTS["uscc"]))
    return mentions


def _iso_mentions(lowered: str, gaz: Gazetteer) -> list[Mention]:
    mentions = []
    for match in ISO.finditer(lowered):
        location = gaz.iso.get(match.group())
        if location:
            entry = Entry(location, "", "province", "iso", WEIGHTS["iso"])
            mentions.append(Mention("iso", match.group().upper(), (entry,), WEIGHTS["iso"]))
    return mentions


def _phone_mentions(lowered: str, gaz: Gazetteer) -> list[tuple[tuple[int, int], Mention | None]]:
    """Phone numbers with their spans; a number whose area code is unknown gives no mention."""
    found = []
    for match in PHONE.finditer(lowered):
        area = match.group(1)
        code = gaz.phone.get(area) or (gaz.phone.get(area[:2]) if area[:1] in "12" else None)
        mention = None
        if code:
            entry = Entry(code[:2], code, "city", "phone", WEIGHTS["phone"])
            mention = Mention("phone", match.group().strip(), (entry,), WEIGHTS["phone"])
        found.append(((match.start(), match.end()), mention))
    return found


def _postal_mention(match: re.Match, lowered: str, gaz: Gazetteer) -> Mention | None:
    """A 5/6-digit number read as a postal code, weighed by what precedes it."""
    before = lowered[max(0, match.start() - 16) : match.start()]
    if NUMBER_CONTEXT.search(before):
        return None
    digits, has_context = match.group(1), bool(POSTAL_CONTEXT.search(before))
    if len(digits) == 5:
        if not has_context:
            return None
        digits, weight = "0" + digits, WEIGHTS["postal_short"]
    else:
        weight = WEIGHTS["postal_context" if has_context else "postal_bare"]
    location = gaz.postal.get(digits[:2])
    if location is None:
        return None
    code = gaz.postal_prefecture.get(digits[:3], "")
    entry = Entry(location, code, "city", "postal", weight)
    return Mention("postal", digits, (entry,), weight)


# --- resolving -----------------------------------------------------------------------------


def strength(support: float) -> float:
    """How sure a body of agreeing evidence makes us: one city name ~0.8, city + postal ~0.93."""
    return 1.0 - 0.2 ** (support / 3.0)


def resolve_address(
    text: str,
    country: str | None = None,
    scope: frozenset[str] = DEFAULT_SCOPE,
    province: str | None = None,
) -> Resolution:
    """Resolve an address (plus optional country and province columns) to a location."""
    return _resolve_cached(text or "", country or "", province or "", frozenset(scope))


@lru_cache(maxsize=200_000)
def _resolve_cached(text: str, country: str, province: str, scope: frozenset[str]) -> Resolution:
    gaz = gazetteer()
    mentions = find_mentions(text) + _hint_mentions(country, province, gaz)
    return decide(mentions, scope, gaz)


def _hint_mentions(country: str, province: str, gaz: Gazetteer) -> list[Mention]:
    """The explicit country/province columns as signals of their own."""
    if not (country or province):
        return []
    mentions = []
    key = gaz.country_names.get(country.strip().lower()) or gaz.country_names.get(squash(country))
    if key:
        entry = Entry(key, "", "province", "country_hint", WEIGHTS["country_hint"])
        mentions.append(Mention("country column", country.strip(), (entry,), entry.weight))
    if province.strip():
        for mention in find_mentions(province):
            if not mention.street:
                mentions.append(dataclasses.replace(mention, kind="province column"))
    return mentions


COUNTRY_KINDS = ("country", "country column")


def decide(mentions: list[Mention], scope: frozenset[str], gaz: Gazetteer) -> Resolution:
    """Pick the best supported location and mark which signals agreed with it."""
    counted = [m for m in mentions if not m.street]
    support: dict[str, float] = defaultdict(float)
    country_support: dict[str, float] = defaultdict(float)
    for mention in counted:
        if mention.kind in COUNTRY_KINDS:
            location = mention.entries[0].location
            country_support[gaz.locations[location].country] += mention.weight
            support.setdefault(location, 0.0)
            continue
        for location in mention.locations:
            support[location] += mention.weight
        support[mention.primary] += 0.01  # tie-break: a name's most prominent meaning
    if not support:
        return Resolution("", "", False, 0.0, _signals(mentions, None, gaz))

    def total(location: str) -> float:
        return support[location] + country_support.get(gaz.locations[location].country, 0.0)

    winner = max(support, key=total)
    everything = sum(m.weight for m in counted)
    confidence = round(min(total(winner), everything) / everything * strength(total(winner)), 3)
    place = gaz.locations[winner]
    in_scope = place.scope_key in scope and confidence >= MIN_CONFIDENCE
    return Resolution(
        place.name, place.country, in_scope, confidence, _signals(mentions, winner, gaz)
    )


def _primary_entry(entries) -> Entry:
    """A name's most prominent meaning: the highest level, then the heaviest entry."""
    return max(entries, key=lambda e: (LEVEL_RANK.get(e.level, 0), e.weight))


def _signals(mentions: list[Mention], winner: str | None, gaz: Gazetteer) -> tuple[Signal, ...]:
    signals = []
    for mention in mentions:
        same_country = (
            mention.kind in COUNTRY_KINDS
            and winner is not None
            and (
                gaz.locations[mention.entries[0].location].country == gaz.locations[winner].country
            )
        )
        agreed = (winner in mention.locations or same_country) and not mention.street
        shown = winner if agreed else mention.primary
        kind = "street" if mention.street else mention.kind
        signals.append(Signal(kind, mention.text, gaz.display(shown), agreed))
    return tuple(signals)


def format_evidence(signals: tuple[Signal, ...]) -> str:
    """Readable evidence: "city 'Dandong'→Liaoning agreed; postal '118000'→Liaoning agreed"."""
    parts = []
    for s in signals:
        verdict = (
            "ignored (street name)"
            if s.kind == "street"
            else ("agreed" if s.agreed else "disagreed")
        )
        parts.append(f"{s.kind} '{s.matched_text}'→{s.province} {verdict}")
    return "; ".join(parts)
