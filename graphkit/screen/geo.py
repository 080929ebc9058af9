"""Address screening: resolve a messy address to a province (or country) with the evidence.

Independent signals are found in the text — place names in every script and spelling,
postal codes, phone area codes, Unified Social Credit Codes, ISO codes, Korean ward and
district suffixes, US state and ZIP codes — each pointing at a *location* (a Chinese
province-level division, a foreign region such as North Korea, or a country). The gazetteer
holds China down to its townships, North Korea down to its districts, and the world's
countries and cities (package data built by graphkit/data/build_gazetteer.py). Each location
collects the weight of the signals that point at it; the best supported location wins, a
close rival reading is reported as ambiguity, and every signal is reported as agreeing,
disagreeing or ignored (a street or village named after a place, a postcode in a foreign
address, a typo against a contrary signal, a repeat). Korean personal names are never
evidence: the gazetteer only holds places.
"""

from __future__ import annotations

import dataclasses
import gc
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache

from graphkit.package_data import read_csv, read_rows, read_text

DEFAULT_SCOPE: frozenset[str] = frozenset({"liaoning", "jilin", "north_korea"})
#: below this confidence an address is never in scope
MIN_CONFIDENCE = 0.25
#: scope aliases accepted on the command line
SCOPE_ALIASES = {"russia_far_east": "russian_far_east", "dprk": "north_korea"}

NE_PROVINCES = ("21", "22", "23")
LEVEL_RANK = {"province": 3, "city": 2, "county": 1, "township": 0}
BASE_WEIGHT = {"province": 3.0, "city": 3.0, "county": 2.0, "township": 1.5}
#: a township name found in several provinces weighs this much of a unique one
SHARED_TOWNSHIP_FACTOR = 0.3
#: weight of a street named after a county, counted only when nothing else locates the text
STREET_HINT_FACTOR = 0.35
#: a runner-up with at least this share of the winner's support makes the reading ambiguous
AMBIGUITY_RATIO = 0.6
WEIGHTS = {
    "postal_context": 2.0,
    "postal_bare": 1.0,
    "postal_short": 1.5,
    "phone": 2.0,
    "uscc": 2.0,
    "iso": 3.0,
    "country": 2.0,
    "country_hint": 1.5,
    "us_state_zip": 3.0,
    "korean_ward": 1.5,
    "korean_district": 2.5,
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
        "highway",
        "hwy",
        "expressway",
        "gonglu",
    ]
)
#: a place name followed by one of these names a building or firm after it ("Koryo Bank Building")
BUILDING_WORDS = frozenset(
    ["building", "bldg", "bank", "hotel", "tower", "plaza", "mansion", "hospital", "clinic"]
    + ["school", "university", "restaurant", "commercial", "house", "store", "shop"]
)
#: admin words after which a county's bare name is read ("Zhuji City" is a county-level city)
SUFFIXED = ("county", "city")
#: a name right after one of these is a person's ("Dr. Dawa Khan"), never a place
HONORIFICS = frozenset(
    ["dr", "mr", "mrs", "ms", "miss", "prof", "sheikh", "shaikh", "haji", "hajji", "sayed", "sir"]
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
CJK_STREET = re.compile(r"[东西南北中東]?\w?(?:路|街|大街|道|大道|巷|胡同|公路)")
#: a place word followed by one of these names a village, compound or building after the place
CJK_NAMED_AFTER = re.compile(
    r"(?:村|屯|组|小区|社区|花园|大厦|广场|市场|公寓|家园|新村|宾馆|酒店|饭店|商场|大楼|公司|镇|乡|街道|委)"
)
CJK_CHAR = re.compile(r"[\u3400-\u9fff]")
HANGUL = re.compile(r"[\uac00-\ud7af]")
CJK_OR_HANGUL = re.compile(r"[\u3400-\u9fff\uac00-\ud7af]")
#: letters read as words: Latin and Cyrillic ("Москва"), lower case, diacritics folded
LATIN_TOKEN = re.compile("[a-z\u0430-\u044f\u0451]+")
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
    r"|mobile|id|#|订单|合同|电话|编号|box|postfach|pob|p\.o\.b\.|apartado|casilla|caixa postal"
    r"|b\.p\.|信箱)\W*$"
)
#: a Korean ward, village or district written with its suffix: "Sochang-dong", "Saemaul 2-dong"
KOREAN_UNIT = re.compile(
    r"\b([a-z]+)(?:(?:[\s-]?\d{1,2})?-|\s\d{1,2}\s)"
    r"(dong|ri|ni|li|rodongjagu|nodongjagu|guyok|kuyok|guyeok)\b"
)
KOREAN_UNIT_KIND = {
    "dong": "korean_ward",
    "ri": "korean_ward",
    "ni": "korean_ward",
    "li": "korean_ward",
    "rodongjagu": "korean_district",
    "nodongjagu": "korean_district",
    "guyok": "korean_district",
    "kuyok": "korean_district",
    "guyeok": "korean_district",
}
#: North Korean district/county/city/province suffixes in MR, RR and English
NK_SUFFIXES = {
    "district": ("guyok", "kuyok", "guyeok", "district", "gu", "ku", "ward"),
    "county": ("gun", "kun", "county"),
    "city": ("si", "shi", "city"),
    "province": ("do", "to", "province"),
}
NK_LEVEL = {"district": "county", "county": "county", "city": "city", "province": "province"}


@dataclass(frozen=True, slots=True)
class Signal:
    """One piece of evidence: what matched, where it points, whether it agreed with the result."""

    kind: str
    matched_text: str
    province: str
    agreed: bool
    #: "agreed", "disagreed" or why the signal did not count ("ignored (street name)"…)
    verdict: str = ""


@dataclass(frozen=True, slots=True)
class PlaceResolution:
    """Where an address is: province (or country name), ISO country, scope, confidence, evidence."""

    province: str
    country: str
    in_scope: bool
    confidence: float
    evidence: tuple[Signal, ...]
    #: two readings are close (e.g. Ji'an: 吉安 in Jiangxi or 集安 in Jilin); evidence names both
    ambiguous: bool = False


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
    #: each reading's weight relative to the strongest one (1.0 for a single reading)
    shares: dict[str, float] = dataclasses.field(default_factory=dict)
    #: some reading lies outside mainland China (a foreign place, Taiwan, Hong Kong, Macau)
    abroad: bool = False

    def __post_init__(self) -> None:
        if not self.locations:
            self.locations = frozenset(e.location for e in self.entries)
            self.primary = _primary_entry(self.entries).location
            best = max(e.weight for e in self.entries)
            for e in self.entries:
                self.shares[e.location] = max(self.shares.get(e.location, 0.0), e.weight / best)
            self.abroad = any(not _mainland(loc) for loc in self.locations)

    def placed(self, start: int, bonus: float) -> Mention:
        """This segment-level mention placed in the whole text, with its position bonus."""
        return Mention(
            self.kind,
            self.text,
            self.entries,
            self.weight * (1.0 + bonus),
            self.street,
            start + self.offset,
            self.locations,
            self.primary,
            self.shares,
            self.abroad,
        )


def _mainland(location: str) -> bool:
    """China itself, or a mainland province (two GB/T 2260 digits, not 71, 81, 82)."""
    return location == "CN" or (location.isdigit() and location not in ("71", "81", "82"))


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
        self.us_states: frozenset[str] = frozenset()
        #: first segment of a name written with a comma ("Korea, North") -> the segments after it
        self.comma_heads: dict[str, set[str]] = defaultdict(set)
        self.max_tokens = 1
        self.world_words: set[str] = set()
        self._load_provinces()
        self._load_regions()
        self._load_divisions()
        self._load_prefecture_codes()
        self._load_names("alias_names.csv")
        self._load_names("places_extra.csv")
        self._load_north_korea()
        self._load_countries()
        self.deletions = _deletion_index(self._fuzzy_keys())
        self.latin_prefixes = {
            key[:n]
            for index in (self.latin, self.latin_with_suffix)
            for key in index
            for n in range(1, len(key) + 1)
        }
        self._load_townships()
        self._load_world()
        self.cjk_lengths = _lengths_by_first_char(self.cjk)
        text = read_text("common_words.txt")
        self.common_words = frozenset(text.split())

    # locations ---------------------------------------------------------------------------
    def _load_provinces(self) -> None:
        for row in read_csv("provinces.csv"):
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
        for row in read_csv("regions.csv"):
            self.locations[row["key"]] = Location(row["key"], row["name"], row["country"])

    def _load_countries(self) -> None:
        for row in read_csv("countries.csv"):
            iso = row["iso"]
            key = row["region"] or iso
            self.locations.setdefault(key, Location(key, row["name"], iso))
            self.country_names[iso.lower()] = key
            for name in [row["name"], *filter(None, row["aliases"].split(";"))]:
                self._add_country_name(name, key)

    def _add_country_name(self, name: str, key: str) -> None:
        self._add_name(name, Entry(key, "", "province", "country", WEIGHTS["country"]))
        self.country_names[squash(name) or name] = key
        if ", " in name:
            head, tail = name.casefold().split(", ", 1)
            self.comma_heads[head].add(tail)

    def location_of(self, target: str) -> str:
        """Location key of a gazetteer target: a GB/T 2260 code, a region key or an ISO country."""
        if target.isdigit():
            return target[:2]
        if target not in self.locations:
            self.locations[target] = Location(target, target, target)
        return target

    def _load_world(self) -> None:
        """Countries, regions and cities of the world (world.csv, built from pycountry/GeoNames).

        The build folds each name already; its words are indexed as prefixes so that an
        ordinary word costs one lookup. World names never take part in typo matching.
        """
        states, shared = [], {}
        latin, cjk, locations = self.latin, self.cjk, self.locations
        for key, words, target, kind, weight, name in read_rows("world.csv"):
            if kind == "state_code":
                states.append(key)
                continue
            location = self.location_of(target)
            if name and locations[location].name == location:
                locations[location] = Location(location, name, target)
            if kind == "country":
                self.country_names[key] = location
            entry = shared.get((location, kind, weight))
            if entry is None:
                entry = shared[location, kind, weight] = _world_entry(location, kind, weight)
            index = latin if words else cjk
            if entry not in index.get(key, ()):
                index[key].append(entry)
            if words:
                self._add_prefixes(words)
        self.us_states = frozenset(states)

    def _add_prefixes(self, words: str) -> None:
        """Index a folded name's words ("ras al khaimah") as prefixes for the token matcher."""
        joined, tokens = "", words.split(" ")
        for token in tokens:
            joined += token
            self.latin_prefixes.add(joined)
            self.world_words.add(token)
        self.max_tokens = max(self.max_tokens, len(tokens))

    def _load_townships(self) -> None:
        """Towns, townships and sub-districts (镇/乡/街道), by their full names only."""
        rows = read_rows("townships.csv")
        provinces: dict[str, set[str]] = defaultdict(set)
        for code, _county, name in rows:
            provinces[name].add(code[:2])
        for code, _county, name in rows:
            if len(name) < 3 or any(e.level != "township" for e in self.cjk.get(name, ())):
                continue
            factor = SHARED_TOWNSHIP_FACTOR if len(provinces[name]) > 1 else 1.0
            entry = Entry(code[:2], code, "township", "township", BASE_WEIGHT["township"] * factor)
            self.cjk[name].append(entry)

    def _load_north_korea(self) -> None:
        """North Korean districts, counties, cities and provinces (nk_places.csv).

        Each is read in Korean script and in McCune-Reischauer (with or without breves,
        apostrophes and hyphens, and the DPRK's own 'ph/th/ch' for aspirates) and Revised
        Romanisation, with its suffix (-guyok, -gun, -si, -do or District, County, City);
        the bare name too where no Chinese place is spelt the same.
        """
        for row in read_csv("nk_places.csv"):
            level = row["level"]
            weight = BASE_WEIGHT[NK_LEVEL[level]] * float(row["weight"])
            entry = Entry("north_korea", "", NK_LEVEL[level], level, weight)
            self._add_name(row["hangul"], entry)
            for base in _korean_spellings(row["mr"], row["rr"]):
                for suffix in NK_SUFFIXES[level]:
                    self._add_name(f"{base} {suffix}", entry)
                bare = squash(base)
                if row["weight"] == "1" and len(bare) >= 6 and bare not in self.latin:
                    self._add_name(base, entry)

    def is_known_word(self, token: str) -> bool:
        """A word that names a place or is a word of one: never read as a typo of another."""
        return (
            token in self.latin
            or token in self.latin_with_suffix
            or token in self.world_words
            or token in self.common_words
            or token in ADMIN_WORDS
            or token in STREET_WORDS
        )

    # names -------------------------------------------------------------------------------
    def _load_divisions(self) -> None:
        minor_short: dict[str, list[Entry]] = defaultdict(list)
        for row in read_csv("divisions.csv"):
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
            for name in short - full if not major else ():
                minor_short[name].append(entry)
            target = self.latin if major else self.latin_with_suffix
            target[row["pinyin"]].append(entry)
        # a short name read without its suffix stands for every county so named, in any province
        # ("Qinghe" is in Liaoning, Hebei and Jiangsu): no province is favoured by the reading
        for index, minor in ((self.latin, self.latin_with_suffix), (self.cjk, minor_short)):
            for key, entries in index.items():
                if key in minor and any(e.level == "county" for e in entries):
                    entries.extend(e for e in minor[key] if e not in entries)

    def _load_prefecture_codes(self) -> None:
        for row in read_csv("prefecture_codes.csv"):
            self.postal_prefecture[row["postal_prefix"]] = row["code"]
            self.phone[row["phone_code"].lstrip("0")] = row["code"]
            entry = Entry(row["code"][:2], row["code"], "city", "city", BASE_WEIGHT["city"])
            key = squash(row["name_en"])
            if entry not in self.latin[key]:
                self.latin[key].append(entry)
        for row in read_csv("phone_codes_other.csv"):
            self.phone[row["phone_code"].lstrip("0")] = row["code"]

    def _load_names(self, filename: str) -> None:
        for row in read_csv(filename):
            location = self.location_of(row["target"])
            level = "city" if row["kind"] not in ("province", "country") else "province"
            weight = BASE_WEIGHT[level] * float(row["weight"])
            self._add_name(row["name"], Entry(location, row["target"], level, row["kind"], weight))

    def _add_name(self, name: str, entry: Entry) -> bool:
        """Index a name; False when it already stands for this place (or has no letters)."""
        index = self.cjk if CJK_CHAR.search(name) or HANGUL.search(name) else self.latin
        key = name if index is self.cjk else squash(name)
        if not key or any(
            e.location == entry.location and e.code == entry.code for e in index.get(key, ())
        ):
            return False  # the same place under a name the divisions already give it
        index[key].append(entry)
        if index is self.latin:
            self.max_tokens = max(self.max_tokens, len(LATIN_TOKEN.findall(fold_latin(name))))
        return True

    def _fuzzy_keys(self) -> list[str]:
        """Names worth matching despite one typo: northeastern provinces and cities, North Korea."""
        keys = []
        for key, entries in self.latin.items():
            if len(key) >= 5 and any(_fuzzy_worthy(e) for e in entries):
                keys.append(key)
        return keys

    def display(self, location: str) -> str:
        return self.locations[location].name


def _world_entry(location: str, kind: str, weight: str) -> Entry:
    if kind == "country":
        return Entry(location, "", "province", kind, WEIGHTS["country"])
    return Entry(location, "", "city", kind, BASE_WEIGHT["city"] * float(weight))


def _korean_spellings(mr: str, rr: str) -> set[str]:
    """A Korean name as MR (breves folded, 'eo/eu' for ŏ/ŭ, 'ph/th/kh' for p'/t'/k') and RR."""
    dprk = re.sub("([PTKptk])'", r"\1h", mr).replace("'", "")  # the DPRK's own Phyong, Thong
    spellings = {mr, dprk, mr.replace("ŏ", "eo").replace("ŭ", "eu")}
    return {s for s in spellings | {rr} if s}


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
    """The gazetteer, built once; its objects are frozen out of the garbage collector's scans."""
    built = Gazetteer()
    gc.freeze()  # a million long-lived names would otherwise be re-scanned at every collection
    return built


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
    """Every signal in the text: names (Latin, CJK and Hangul), Korean units and numbers.

    The text is read in comma-separated segments, each looked up in a cache: import records
    repeat the same city, province and country segments over and over. A name written with
    a comma ("Korea, North") is read as one segment.
    """
    return _placed([(start, m) for start, part in _segments(text) for m in _segment_mentions(part)])


def _segments(text: str) -> list[tuple[int, str]]:
    """The text's comma-separated segments with their offsets ("Korea, North" kept whole)."""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    heads = gazetteer().comma_heads
    segments = list(SEGMENT.finditer(text))
    parts, skip = [], False
    for n, segment in enumerate(segments):
        if skip:
            skip = False
            continue
        part = segment.group()
        tails = heads.get(part.strip().casefold())
        if tails and n + 1 < len(segments) and segments[n + 1].group().strip().casefold() in tails:
            part, skip = f"{part} {segments[n + 1].group()}", True
        parts.append((segment.start(), part))
    return parts


def _placed(found: list[tuple[int, Mention]]) -> list[Mention]:
    """Mentions in text order; the k-th of n Latin names weighs POSITION_BONUS * k/(n-1) more.

    Latin-script addresses run from the street to the country, so a later name is the more
    general, surer one; CJK names and numbers carry no position.
    """
    last = sum(m.offset >= 0 for _, m in found) - 1
    mentions, k = [], 0
    for start, mention in found:
        if mention.offset < 0:
            mentions.append(mention)
            continue
        mentions.append(mention.placed(start, POSITION_BONUS * k / max(last, 1)))
        k += 1
    return mentions


ZIP = re.compile(r"\b([A-Z]{2})\.?,?\s+(\d{5})(?:-\d{4})?\b")


def _us_state_zip(text: str, gaz: Gazetteer) -> list[Mention]:
    """A US state code followed by a ZIP code ("SPRING, TX 77379"): the address is in the US."""
    mentions = []
    for match in ZIP.finditer(text):
        if match.group(1) in gaz.us_states:
            entry = Entry("US", "", "province", "us_state_zip", WEIGHTS["us_state_zip"])
            mentions.append(Mention("US state and ZIP", match.group(), (entry,), entry.weight))
    return mentions


def _korean_units(text: str) -> list[Mention]:
    """Korean wards and districts by their suffix: -dong/-ri (Korea), -guyok/-rodongjagu (DPRK).

    A ward (-dong, -ri) is Korean but not only North Korean, so it also supports South Korea
    a little; the -guyok and -rodongjagu forms are used only in the North.
    """
    mentions = []
    for match in KOREAN_UNIT.finditer(fold_latin(text)):
        kind = KOREAN_UNIT_KIND[match.group(2)]
        weight = WEIGHTS[kind]
        entries = [Entry("north_korea", "", "county", kind, weight)]
        if kind == "korean_ward":
            entries.append(Entry("south_korea", "", "county", kind, weight * 0.5))
        mentions.append(Mention(kind.replace("_", " "), match.group(), tuple(entries), weight))
    return mentions


@lru_cache(maxsize=200_000)
def _segment_mentions(segment: str) -> tuple[Mention, ...]:
    gaz = gazetteer()
    mentions = _latin_mentions(segment, gaz)
    if not segment.isascii() and CJK_OR_HANGUL.search(segment):
        mentions += _cjk_mentions(segment, gaz)
    if "-" in segment or " dong" in segment.lower():
        mentions += _korean_units(segment)
    if ZIP.search(segment):
        mentions += _us_state_zip(segment, gaz)
    return tuple(mentions + _number_mentions(segment, gaz))


def _latin_mentions(text: str, gaz: Gazetteer) -> list[Mention]:
    folded = fold_latin(text)
    tokens = [(m.group(), m.start()) for m in LATIN_TOKEN.finditer(folded)]
    mentions, i, starts = [], 0, gaz.latin_prefixes
    while i < len(tokens):
        if tokens[i][0] in HONORIFICS:
            i += 3  # "Dr. Dawa Khan": a person's given name and surname
            continue
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
        elif joined in gaz.latin_with_suffix and _admin_word_at(tokens, i + span) in SUFFIXED:
            best = (span, gaz.latin_with_suffix[joined], False)
    if best is None and len(tokens[i][0]) >= 6 and not gaz.is_known_word(tokens[i][0]):
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
    """Index of a street or building word after a name (maybe after one more word), else None.

    "Dalian Road", "Dalian West Road", "Dalian Pai Road" and "New Siping Highway" are streets;
    "Koryo Bank Building" is a building named after a place.
    """
    for j in (end, end + 1):
        if j < len(tokens) and (tokens[j][0] in STREET_WORDS or tokens[j][0] in BUILDING_WORDS):
            return j
        if j < len(tokens) and tokens[j][0] in ADMIN_WORDS:
            return None
    return None


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
            short = _is_short_name(name)
            street = (CJK_STREET.match(after) or CJK_NAMED_AFTER.match(after)) if short else None
            shown = name + street.group() if street else name
            weight = max(e.weight for e in entries)
            kind = _primary_entry(entries).kind
            mentions.append(Mention(kind, shown, entries, weight, bool(street)))
        i += length
    return mentions


def _is_short_name(name: str) -> bool:
    """A name without its suffix ("河北", not "河北省"): before 村 or 小区 it is a name part."""
    return not any(
        name.endswith(suffix) for suffix in ("省", "市", "区", "县", "旗", "州", "镇", "乡")
    )


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
) -> PlaceResolution:
    """Resolve an address (plus optional country and province columns) to a location."""
    return _resolve_cached(text or "", country or "", province or "", frozenset(scope))


@lru_cache(maxsize=200_000)
def _resolve_cached(
    text: str, country: str, province: str, scope: frozenset[str]
) -> PlaceResolution:
    telling = tuple(part for _, part in _segments(text) if _segment_mentions(part))
    return _resolve_segments(telling, country, province, scope)


@lru_cache(maxsize=200_000)
def _resolve_segments(
    parts: tuple[str, ...], country: str, province: str, scope: frozenset[str]
) -> PlaceResolution:
    """Resolve the segments that hold signals: "Bldg 7, Dandong" and "Bldg 9, Dandong" agree."""
    gaz = gazetteer()
    found = [(0, m) for part in parts for m in _segment_mentions(part)]
    return decide(_placed(found) + _hint_mentions(country, province, gaz), scope, gaz)


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


COUNTRY_KINDS = ("country", "country column", "US state and ZIP")
#: why a signal found in the text did not count (shown in the evidence)
IGNORED_STREET = "ignored (street name)"
IGNORED_POSTAL = "ignored (the text points outside China: not a Chinese postcode)"
IGNORED_TYPO = "ignored (a typo match against a contrary signal)"
IGNORED_REPEAT = "ignored (repeated)"


def _ignored(mentions: list[Mention], gaz: Gazetteer) -> dict[int, str]:
    """Mentions that do not count, by index, with the reason.

    A street name never counts; a name repeated counts once; a number is a Chinese postcode
    only when nothing else in the text points outside China; a typo match never counts
    against an exact name that points elsewhere.
    """
    ignored: dict[int, str] = {}
    seen: set[tuple[str, frozenset[str]]] = set()
    for n, mention in enumerate(mentions):
        key = (mention.text.lower(), mention.locations)
        if mention.street:
            ignored[n] = IGNORED_STREET
        elif key in seen and mention.kind not in COUNTRY_KINDS:
            ignored[n] = IGNORED_REPEAT
        else:
            seen.add(key)
    doubtful = [n for n, m in enumerate(mentions) if m.kind == "postal" or m.kind[-1] == ")"]
    if not doubtful:
        return ignored
    exact = [m for n, m in enumerate(mentions) if n not in ignored and m.kind != "postal"]
    abroad = any(m.abroad for m in exact)
    for n in doubtful:
        mention = mentions[n]
        if n in ignored:
            continue
        if mention.kind == "postal" and abroad:
            ignored[n] = IGNORED_POSTAL
        elif mention.kind.endswith("(typo)") and any(
            not m.kind.endswith("(typo)") and not _compatible(m, mention, gaz) for m in exact
        ):
            ignored[n] = IGNORED_TYPO
    return ignored


def _compatible(other: Mention, mention: Mention, gaz: Gazetteer) -> bool:
    """Whether two mentions can both be right: a shared place, or a country and a place in it."""
    if other.locations & mention.locations:
        return True
    if other.kind not in COUNTRY_KINDS:
        return False
    countries = {gaz.locations[loc].country for loc in other.locations}
    return any(gaz.locations[loc].country in countries for loc in mention.locations)


def decide(mentions: list[Mention], scope: frozenset[str], gaz: Gazetteer) -> PlaceResolution:
    """Pick the best supported location, say whether a rival reading is close, mark agreement."""
    ignored = _ignored(mentions, gaz)
    counted = [m for n, m in enumerate(mentions) if n not in ignored]
    if not counted:
        mentions = [_street_hint(m) if m.street else m for m in mentions]
        ignored = {n: why for n, why in ignored.items() if mentions[n].street}
        counted = [m for n, m in enumerate(mentions) if n not in ignored]
    support: dict[str, float] = defaultdict(float)
    country_support: dict[str, float] = defaultdict(float)
    prominent: dict[str, int] = defaultdict(int)  # how often a place is a name's first meaning
    for mention in counted:
        if mention.kind in COUNTRY_KINDS:
            location = mention.entries[0].location
            country_support[gaz.locations[location].country] += mention.weight
            support.setdefault(location, 0.0)
            continue
        for location in mention.locations:
            support[location] += mention.weight * mention.shares[location]
        prominent[mention.primary] += 1
    if not support:
        return PlaceResolution("", "", False, 0.0, _signals(mentions, None, None, ignored, gaz))

    places = gaz.locations
    totals = {
        loc: round(weight + country_support.get(places[loc].country, 0.0), 6)
        for loc, weight in support.items()
    }

    def rank(location: str) -> tuple[float, bool, int]:
        # a tie goes to the reading outside the scope (a false lead costs more than a miss),
        # then to the place that is the names' most prominent meaning
        outside = places[location].scope_key not in scope
        return totals[location], outside, prominent[location]

    winner = max(totals, key=rank)
    rivals = [loc for loc in totals if _rivals(loc, winner, gaz)]
    rival = max(rivals, key=rank) if rivals else None
    best, second = totals[winner], (totals[rival] if rival else 0.0)
    # close, and nothing in the text supports the winner without also supporting the rival
    ambiguous = (
        rival is not None
        and second >= AMBIGUITY_RATIO * best
        and all(rival in m.locations for m in counted if winner in m.locations)
    )
    everything = sum(m.weight for m in counted)
    confidence = min(best, everything) / everything * strength(best)
    if ambiguous:
        confidence *= 1 - 0.5 * second / best
    place = gaz.locations[winner]
    in_scope = place.scope_key in scope and confidence >= MIN_CONFIDENCE
    signals = _signals(mentions, winner, rival if ambiguous else None, ignored, gaz)
    return PlaceResolution(
        place.name, place.country, in_scope, round(confidence, 3), signals, ambiguous
    )


def _street_hint(mention: Mention) -> Mention:
    """A street named after a county (伊通大街): weak evidence when nothing else locates the text.

    Cities name streets after the counties around them; streets named after provinces and
    large cities ("Dalian Road" in Shanghai) are found everywhere and stay no evidence.
    """
    if not all(e.level == "county" for e in mention.entries):
        return mention
    weight = mention.weight * STREET_HINT_FACTOR
    return dataclasses.replace(
        mention, kind="street (weak: nothing else)", weight=weight, street=False
    )


def _rivals(location: str, winner: str, gaz: Gazetteer) -> bool:
    """Two readings compete unless one is the other's country (China and Liaoning agree)."""
    a, b = gaz.locations[location], gaz.locations[winner]
    return location != winner and a.key != b.country and b.key != a.country


def _primary_entry(entries) -> Entry:
    """A name's most prominent meaning: the highest level, then the heaviest entry."""
    return max(entries, key=lambda e: (LEVEL_RANK.get(e.level, 0), e.weight))


def _signals(
    mentions: list[Mention],
    winner: str | None,
    rival: str | None,
    ignored: dict[int, str],
    gaz: Gazetteer,
) -> tuple[Signal, ...]:
    signals = []
    places = gaz.locations
    country = places[winner].country if winner is not None else None
    for n, mention in enumerate(mentions):
        agreed = n not in ignored and (
            winner in mention.locations
            or (mention.kind in COUNTRY_KINDS and places[mention.primary].country == country)
        )
        shown = places[winner if agreed else mention.primary].name
        kind = "street" if mention.street else mention.kind
        verdict = ignored.get(n) or ("agreed" if agreed else "disagreed")
        signals.append(Signal(kind, mention.text, shown, agreed, verdict))
    if rival is not None:
        shared = [m.text for m in mentions if winner in m.locations and rival in m.locations]
        both = f"{gaz.display(winner)} or {gaz.display(rival)}"
        signals.append(Signal("ambiguous", " / ".join(shared), both, False, "two close readings"))
    return tuple(signals)


@dataclass(frozen=True, slots=True)
class NamePlace:
    """An in-scope place a company's name starts with ("DANDONG … TRADING" -> Dandong)."""

    matched: str
    province: str
    country: str

    def __str__(self) -> str:
        return f"company name starts with '{self.matched}'→{self.province}"


def name_place(name: str, scope: frozenset[str] = DEFAULT_SCOPE) -> NamePlace | None:
    """The in-scope city or county a company name starts with, if any (weak evidence)."""
    gaz = gazetteer()
    text = unicodedata.normalize("NFKC", name).strip()
    first = LATIN_TOKEN.search(fold_latin(text))
    for mention in find_mentions(text):
        at_start = mention.offset == (first.start() if first else -2) or (
            mention.offset < 0 and text.startswith(mention.text)
        )
        levels = {e.level for e in mention.entries}
        if not at_start or mention.street or "(typo)" in mention.kind or levels == {"province"}:
            continue
        place = gaz.locations[mention.primary]
        if len(mention.locations) == 1 and place.scope_key in scope:
            return NamePlace(mention.text, place.name, place.country)
    return None


def format_evidence(signals: tuple[Signal, ...]) -> str:
    """Readable evidence: "city 'Dandong'→Liaoning agreed; postal '118000'→Liaoning agreed"."""
    parts = []
    for s in signals:
        if s.kind == "ambiguous":
            parts.append(f"AMBIGUOUS: {s.province} ({s.verdict}: '{s.matched_text}')")
        else:
            parts.append(f"{s.kind} '{s.matched_text}'→{s.province} {s.verdict}")
    return "; ".join(parts)
