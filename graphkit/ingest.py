"""Import records (bills of lading) into a bundle: supplier nodes and SUPPLIES edges with evidence.

Each record says that a shipper sent goods to a consignee. Shipper and consignee names are
resolved into companies (graphkit.resolve), matched against the nodes of an existing bundle
when one is given, and every resolved shipper -> consignee pair becomes one SUPPLIES edge:

* ``share``: the pair's value over the value of all recorded shipments into the consignee. A
  record without a value is valued at its weight times the consignee's average value per kg
  (the whole file's average when that consignee has no record with both). Merged into a
  bundle, the consignee's declared shares stay as they are and the recorded shares are scaled
  to fill what is left (1 - sum of declared shares); when a declared edge into it has no share
  the recorded ones get none either.
* ``confidence`` (how sure we are that the link exists, 0.6..0.9): per record, the weaker of
  the two name matches: 0.9 the name is written exactly as the node's name, 0.8 it is the same
  after normalisation (legal form, punctuation, spacing, case), 0.7 it is the node's name in the
  other script (English and Chinese name given together in a record), 0.6 it is a spelling
  variant (one typo). An edge takes the best of its records.
* ``evidence``: the record ids (the first 50, then a count).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from pathlib import Path
from typing import TYPE_CHECKING

from graphkit.errors import WARNING, InvalidInput, Problem
from graphkit.model import SUPPLIER, SUPPLIES, Bundle
from graphkit.names import MAX_NAME_CHARS
from graphkit.package_data import read_toml
from graphkit.resolve import (
    EntityResolution,
    compact,
    name_aliases,
    normalise_name,
    place_of,
    resolve_names,
    strip_to_order,
)
from graphkit.screen.ports import liaoning_port

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

FIELDS = (
    "record_id",
    "date",
    "shipper_name",
    "shipper_name_local",
    "shipper_address",
    "shipper_city",
    "shipper_country",
    "consignee_name",
    "consignee_address",
    "consignee_country",
    "notify_party",
    "hs_code",
    "goods_description",
    "weight_kg",
    "value_usd",
    "port_of_lading",
    "port_of_discharge",
)
#: columns holding a printed party block (name lines, then address lines); see split_block
BLOCKS = {"shipper_block": "shipper", "consignee_block": "consignee"}
CANDIDATES_FILE = "match_candidates.csv"
REJECTED_FILE = "rejected_records.csv"
REJECTED_COLUMNS = ["row", "column", "reason"]
#: party names that say nobody ("to be named", withheld)
PLACEHOLDERS = frozenset({"tbn", "tba", "n a", "na", "none", "unknown", "withheld", "confidential"})
#: a block line this long was probably wrapped, so a next line without digits continues the name
WRAP_WIDTH = 30
#: record ids listed per edge before "(+N more)"
MAX_EVIDENCE_IDS = 50
#: name variants listed per node in merged_from
MAX_VARIANTS = 10
CONFIDENCE = {"exact": 0.9, "normalised": 0.8, "other script": 0.7, "variant": 0.6}
_NUMBER_JUNK = re.compile(r"[\s,$€£¥]|usd|kgs?|kilograms?", re.IGNORECASE)
_HAS_CJK = re.compile(r"[\u3400-\u9fff\uac00-\ud7af]")
#: a provider's classifier prefix: 'Classified: 2523.21' (Panjiva assigns the HS code)
_CLASSIFIED = re.compile(r"^\s*classified\s*:\s*", re.IGNORECASE)


@dataclass
class Mapping:
    """Which column of the records file holds each field, country names to ISO codes, and
    values for fields the layout lacks (a preset's defaults)."""

    columns: dict[str, list[str]]
    countries: dict[str, str]
    defaults: dict[str, str] = dataclass_field(default_factory=dict)


@dataclass
class IngestResult:
    """The merged bundle, the uncertain name matches and a few counts for the user."""

    bundle: Bundle
    candidates: pd.DataFrame
    stats: dict[str, int]


# --- mapping and reading ----------------------------------------------------------------


def presets() -> dict[str, dict]:
    """The export layouts shipped in graphkit/data/records_mapping.toml, by name."""
    return _default_table().get("presets", {})


def _default_table() -> dict:
    return read_toml("records_mapping.toml")


def load_mapping(path: str | Path | None = None, preset: str | None = None) -> Mapping:
    """The default mapping (package data), then a preset's columns, then the file at ``path``.

    A preset or file names only the fields it changes.
    """
    table = _default_table()
    columns = {f: _as_list(table["columns"].get(f, f)) for f in FIELDS}
    countries = dict(table.get("countries", {}))
    defaults: dict[str, str] = {}
    if preset is not None:
        if preset not in presets():
            known = ", ".join(sorted(presets()))
            raise InvalidInput(
                [Problem("--preset", None, None, f"unknown preset {preset!r}; known: {known}")]
            )
        chosen = presets()[preset]
        columns.update({k: _as_list(v) for k, v in chosen.get("columns", {}).items()})
        defaults.update(chosen.get("defaults", {}))
    if path is not None:
        user = _read_user_mapping(Path(path))
        columns.update({k: _as_list(v) for k, v in user.get("columns", {}).items()})
        countries.update(user.get("countries", {}))
    return Mapping(columns, countries, defaults)


def _read_user_mapping(path: Path) -> dict:
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InvalidInput([Problem(str(path), None, None, f"cannot read mapping: {exc}")]) from exc
    unknown = set(table.get("columns", {})) - set(FIELDS) - set(BLOCKS)
    if unknown:
        known = ", ".join([*FIELDS, *BLOCKS])
        message = f"unknown field(s) {', '.join(sorted(unknown))}; known: {known}"
        raise InvalidInput([Problem(str(path), None, "columns", message)])
    return table


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def read_records(
    path: str | Path, mapping: Mapping | None = None, skip_invalid: bool = False
) -> pd.DataFrame:
    """Read a records CSV into the standard fields; raise InvalidInput listing every problem.

    The result has one text column per field ("" when missing), ``value_usd``/``weight_kg`` as
    floats (NaN when missing), ``hs_code`` as digits, and ``row`` (spreadsheet row number).
    With ``skip_invalid`` the records with an error are left out instead and listed in
    ``attrs["rejected"]`` (row, column, reason); ``attrs["read"]`` counts the rows read.
    """
    from graphkit.io.tables import read_csv_table

    mapping = mapping or load_mapping()
    raw = read_csv_table(Path(path))
    if raw.frame is None:
        raise InvalidInput(raw.problems)
    label = raw.label
    if raw.frame.empty:
        raise InvalidInput([Problem(label, None, None, "file has a header but no records")])
    found = _find_columns(raw.frame.columns, mapping)
    problems = _missing_columns(label, found, mapping, list(raw.frame.columns))
    if problems:
        raise InvalidInput(problems)
    fields, first_row = [*FIELDS, *BLOCKS], raw.first_row
    records = raw.frame.reindex(columns=[found.get(f, "\0") for f in fields], fill_value="")
    del raw  # the file's other columns go; one column at a time is stripped below
    records.columns = fields
    for name in fields:
        records[name] = records[name].str.strip()
    records["row"] = range(first_row, first_row + len(records))
    for field_name, value in mapping.defaults.items():
        records[field_name] = records[field_name].where(records[field_name] != "", value)
    _split_blocks(records, found)
    problems = _check_records(label, records, found, mapping)
    errors = [p for p in problems if p.severity != WARNING]
    if errors and not skip_invalid:
        raise InvalidInput(problems)
    bad = records["row"].isin({p.row for p in errors})
    rejected = [(p.row, p.column or "", p.message) for p in errors]
    read = len(records)
    records = records[~bad].drop(columns=list(BLOCKS)).reset_index(drop=True)
    warnings = [p for p in problems if p.severity == WARNING]
    records.attrs.update(warnings=warnings, label=label, rejected=rejected, read=read)
    return records


def split_block(block: str) -> tuple[str, str]:
    """A printed party block as (name, address): the first line is the name, and so is a
    wrapped next line (the first filled to WRAP_WIDTH, the next without digits); the rest is
    the address. A leading 'TO ORDER (OF)' is dropped."""
    lines = [line.strip() for line in block.replace("\r", "\n").split("\n") if line.strip()]
    if not lines:
        return "", ""
    name_lines = 1
    if len(lines) > 1 and len(lines[0]) >= WRAP_WIDTH and not re.search(r"\d", lines[1]):
        name_lines = 2
    name = strip_to_order(" ".join(lines[:name_lines]))
    return name, ", ".join(lines[name_lines:])


def _split_blocks(records: pd.DataFrame, found: dict[str, str]) -> None:
    """Names and addresses from the party blocks, where the layout has them (in place)."""
    for block, role in BLOCKS.items():
        if block not in found:
            continue
        parts = map_distinct(records[block], split_block)
        records[f"{role}_name"] = parts.str[0]
        address = parts.str[1]
        column = f"{role}_address"
        records[column] = records[column].where(records[column] != "", address)


def _find_columns(columns: list[str], mapping: Mapping) -> dict[str, str]:
    """field -> the file's column for it (first listed name present, any case)."""
    by_lower = {c.strip().casefold(): c for c in columns}
    found = {}
    for field, names in mapping.columns.items():
        match = next((by_lower[n.casefold()] for n in names if n.casefold() in by_lower), None)
        if match is not None:
            found[field] = match
    return found


def _missing_columns(
    label: str, found: dict[str, str], mapping: Mapping, columns: list[str]
) -> list[Problem]:
    def missing(field: str) -> str:
        return f"no column for {field} (looked for: {', '.join(mapping.columns[field])})"

    have = ", ".join(columns)
    problems = []
    if "shipper_name" not in found:
        problems.append(Problem(label, 1, None, f"{missing('shipper_name')}; found: {have}"))
    if "consignee_name" not in found and "notify_party" not in found:
        problems.append(Problem(label, 1, None, f"{missing('consignee_name')}; found: {have}"))
    if "value_usd" not in found and "weight_kg" not in found:
        message = f"{missing('value_usd')}, and {missing('weight_kg')}; found: {have}"
        problems.append(Problem(label, 1, None, message))
    return problems


def _check_records(
    label: str, records: pd.DataFrame, found: dict[str, str], mapping: Mapping
) -> list[Problem]:
    """Parse numbers, HS codes, dates and countries in place; return every problem found."""
    import pandas as pd

    problems: list[Problem] = []

    def flag(mask: pd.Series, field: str, message, severity: str = "error") -> None:
        column = found.get(field, field)
        for position in mask.to_numpy().nonzero()[0]:
            row = records.iloc[position]
            problems.append(Problem(label, int(row["row"]), column, message(row), severity))

    for role in ("shipper", "consignee"):
        name = records[f"{role}_name"]
        placeholder = map_distinct(name, _is_placeholder)
        column = f"{role}_block" if f"{role}_block" in found else f"{role}_name"
        if role == "consignee":
            placeholder &= map_distinct(records["notify_party"], _is_placeholder)
        flag(placeholder, column, lambda r, ro=role: _no_party_message(r, ro))
    for field_name in ("value_usd", "weight_kg"):
        text = records[field_name]
        number = _parse_numbers(text)
        f = field_name
        infinite = number.abs() == float("inf")
        flag((text != "") & number.isna(), f, lambda r, f=f: f"{r[f]!r} is not a number")
        flag(infinite, f, lambda r, f=f: f"{r[f]!r} is not a finite number")
        flag((number < 0) & ~infinite, f, lambda r, f=f: f"{r[f]!r} is negative")
        records[f] = number.where((number >= 0) & ~infinite)
    for role in ("shipper", "consignee"):
        long = records[f"{role}_name"].str.len() > MAX_NAME_CHARS
        message = f"{role} name over {MAX_NAME_CHARS:,} characters: only its start is matched"
        flag(long, f"{role}_name", lambda r, m=message: m, WARNING)
    no_amount = records["value_usd"].isna() & records["weight_kg"].isna()
    flag(no_amount, "value_usd", lambda r: "no value and no weight", WARNING)
    hs = map_distinct(
        records["hs_code"], lambda code: re.sub(r"[\s.\-]", "", _CLASSIFIED.sub("", code))
    )
    bad_hs = (hs != "") & ~hs.str.fullmatch(r"\d{4,10}")
    flag(bad_hs, "hs_code", lambda r: f"{r['hs_code']!r} is not an HS code (4 to 10 digits)")
    records["hs_code"] = map_distinct(hs.where(~bad_hs, ""), _format_hs)
    dates = pd.to_datetime(records["date"], errors="coerce", format="mixed")
    bad_date = (records["date"] != "") & dates.isna()
    flag(bad_date, "date", lambda r: f"{r['date']!r} is not a date (use YYYY-MM-DD)")
    for field in ("shipper_country", "consignee_country"):
        records[field] = map_distinct(records[field], lambda c: country_code(c, mapping.countries))
    return problems


def _is_placeholder(name: str) -> bool:
    """Empty, 'TO ORDER' alone, or a word that names nobody ('TBN', 'WITHHELD')."""
    key = " ".join(re.sub(r"[^\w]+", " ", strip_to_order(name).casefold()).split())
    return key in PLACEHOLDERS or not key


def _no_party_message(row: pd.Series, role: str) -> str:
    name = row[f"{role}_name"]
    if not name:
        return f"{role} is empty (withheld or not given)"
    return f"{role} {name!r} names no company"


def _parse_numbers(text: pd.Series) -> pd.Series:
    """Numbers from text such as '1,200 KG' or '$3,000.50'; NaN where there is none."""
    import pandas as pd

    number = pd.to_numeric(text, errors="coerce")
    messy = number.isna() & (text != "")
    cleaned = text[messy].str.replace(_NUMBER_JUNK, "", regex=True)
    number[messy] = pd.to_numeric(cleaned, errors="coerce")
    return number


def _has_cjk(text: str) -> bool:
    return _HAS_CJK.search(text) is not None


def map_distinct(series: pd.Series, function) -> pd.Series:
    """``series.map(function)``, calling ``function`` once per distinct value."""
    distinct = series.unique()
    return series.map(dict(zip(distinct, map(function, distinct))))


def _format_hs(digits: str) -> str:
    return f"{digits[:4]}.{digits[4:6]}" if len(digits) >= 6 else digits


def country_code(text: str, names: dict[str, str] | None = None) -> str:
    """ISO 3166-1 alpha-2 code for a country cell ('CN', 'China', 'CHINA', 'Viet Nam'), else ''.

    The mapping's [countries] table is asked first, then pycountry (ISO 3166 names, official
    names and alpha-3 codes, then its fuzzy search: 'Russia').
    """
    import pycountry

    text = text.strip()
    if re.fullmatch(r"[A-Za-z]{2}", text):
        return text.upper()
    key = " ".join(re.sub(r"[^\w]+", " ", unicodedata.normalize("NFKC", text).casefold()).split())
    if not key:
        return ""
    if names and key in names:
        return names[key]
    try:
        return pycountry.countries.lookup(text).alpha_2
    except LookupError:
        pass
    try:
        return pycountry.countries.search_fuzzy(text)[0].alpha_2
    except LookupError:
        return ""


# --- parties and resolution -------------------------------------------------------------


def _parties(records: pd.DataFrame, into: Bundle | None) -> tuple[pd.DataFrame, np.ndarray]:
    """One row per name occurrence (record shipper/consignee, bundle node) and the known links.

    Columns: name, place, address, country, role ('shipper', 'consignee' or 'node'), ref (the
    record position, or the node id), alias (0 main name, 1 other-script name).
    """
    import numpy as np
    import pandas as pd

    shipper = _occurrences(
        records["shipper_name"],
        records["shipper_name_local"],
        records["shipper_address"],
        records["shipper_city"],
        records["shipper_country"],
    )
    consignee_name = records["consignee_name"].where(
        records["consignee_name"] != "", records["notify_party"]
    )
    empty = pd.Series([""] * len(records), index=records.index)
    consignee = _occurrences(
        consignee_name, empty, records["consignee_address"], empty, records["consignee_country"]
    )
    frames = [shipper.assign(role="shipper"), consignee.assign(role="consignee")]
    if into is not None:
        nodes = into.nodes[into.nodes["kind"] == SUPPLIER]
        node_parties = _occurrences(
            nodes["name"].where(nodes["name"] != "", nodes["id"]),
            pd.Series([""] * len(nodes), index=nodes.index),
            nodes["address"],
            pd.Series([""] * len(nodes), index=nodes.index),
            nodes["country"],
        )
        node_parties["ref"] = nodes["id"].to_numpy()[node_parties["ref"].to_numpy()]
        frames.append(node_parties.assign(role="node"))
    parties = pd.concat(frames, ignore_index=True)
    main = parties[parties["alias"] == 0].reset_index()
    other = parties[parties["alias"] == 1].reset_index()
    joined = other.merge(main, on=["role", "ref"], suffixes=("_other", "_main"))
    links = joined[["index_main", "index_other"]].to_numpy(dtype=np.int64)
    return parties, links


def _occurrences(
    names: pd.Series, local: pd.Series, address: pd.Series, city: pd.Series, country: pd.Series
) -> pd.DataFrame:
    """Main and other-script names of each row; a cell holding both scripts is split."""
    import pandas as pd

    split = {name: name_aliases(name) for name in names.unique()}
    main = names.map({name: parts[0] for name, parts in split.items()})
    other = names.map({name: "".join(parts[1:]) for name, parts in split.items()})
    other = other.where(local == "", local)
    places = _places(address, city, country)
    base = {
        "place": places.to_numpy(),
        "address": address.to_numpy(),
        "country": country.to_numpy(),
        "ref": range(len(names)),
    }
    frame = pd.concat(
        [
            pd.DataFrame({"name": main.to_numpy(), **base, "alias": 0}),
            pd.DataFrame({"name": other.to_numpy(), **base, "alias": 1}),
        ],
        ignore_index=True,
    )
    return frame[frame["name"] != ""]


def _places(address: pd.Series, city: pd.Series, country: pd.Series) -> pd.Series:
    """place_of for each row, computed once per distinct (address, city, country)."""
    import numpy as np
    import pandas as pd

    triples = pd.MultiIndex.from_arrays([address, city, country])
    codes, uniques = triples.factorize()
    keys = np.array([place_of(a, c, k) for a, c, k in uniques] or [""], dtype=object)
    return pd.Series(keys[codes] if len(uniques) else [], index=address.index, dtype=object)


def _name_quality(parties: pd.DataFrame, canonical: pd.Series) -> pd.Series:
    """exact / normalised / other script / variant: how each occurrence matches its node name."""
    import numpy as np
    import pandas as pd

    codes, pairs = pd.MultiIndex.from_arrays([parties["name"], parties["node"]]).factorize()
    quality = np.array(
        [_quality(name, str(canonical.get(node, ""))) for name, node in pairs], dtype=object
    )
    return pd.Series(quality[codes], index=parties.index)


def _quality(name: str, node_name: str) -> str:
    """How ``name`` matches one of the names (either script) of the node called ``node_name``."""
    aliases = name_aliases(node_name)
    if " ".join(name.casefold().split()) in {" ".join(a.casefold().split()) for a in aliases}:
        return "exact"
    if compact(normalise_name(name)) in {compact(normalise_name(a)) for a in aliases}:
        return "normalised"
    if bool(_HAS_CJK.search(name)) not in {bool(_HAS_CJK.search(a)) for a in aliases}:
        return "other script"
    return "variant"


# --- building the bundle ------------------------------------------------------------------


def records_to_bundle(records: pd.DataFrame, into: Bundle | None = None) -> IngestResult:
    """Resolve the records' parties and build (or extend) a bundle; validated before returning."""
    parties, links = _parties(records, into)
    resolution = resolve_names(parties["name"], parties["place"], links)
    parties["entity"] = resolution.entity
    parties["node"] = _node_ids(parties, into)
    nodes = _nodes(parties, records, into, resolution)
    canonical = nodes.set_index("id")["name"]
    parties["quality"] = _name_quality(parties, canonical)
    edges, self_links = _edges(parties, records, into)
    bundle = _validated(nodes, edges, records.attrs.get("warnings", []) + self_links)
    candidates = _candidate_table(parties, resolution.candidates)
    found = parties[(parties["role"] != "node") & (parties["alias"] == 0)]
    stats = {
        "records_read": int(records.attrs.get("read", len(records))),
        "records_used": len(records) - len(self_links),
        "names_merged": int(found.groupby("node")["name"].nunique().sub(1).sum()),
        "skipped_self_loops": len(self_links),
        "rejected": len(records.attrs.get("rejected", [])),
        "records": len(records),
        "nodes": len(bundle.nodes),
        "new_nodes": int((bundle.nodes["found_in"] == "import records").sum()),
        "edges": len(bundle.edges),
        "record_edges": int(bundle.edges["evidence"].str.contains("import records").sum()),
        "candidates": len(candidates),
        "comparisons": resolution.comparisons,
    }
    return IngestResult(bundle, candidates, stats)


def _node_ids(parties: pd.DataFrame, into: Bundle | None) -> pd.Series:
    """Each occurrence's node id: the bundle node it resolved to, else a new 'rec-' id."""
    nodes = parties[parties["role"] == "node"].drop_duplicates("entity")
    existing = dict(zip(nodes["entity"], nodes["ref"]))
    found = parties[parties["role"] != "node"]
    latin = found[~map_distinct(found["name"], _has_cjk)]
    names = _mode_per(found, "entity", "name")
    names.update(_mode_per(latin, "entity", "name"))
    taken = set(into.nodes["id"]) if into is not None else set()
    new = {}
    for entity, name in names.items():
        if entity in existing:
            continue
        base = "rec-" + (_slug(name) or f"party-{entity}")
        node_id, n = base, 2
        while node_id in taken:
            node_id, n = f"{base}-{n}", n + 1
        taken.add(node_id)
        new[entity] = node_id
    return parties["entity"].map({**new, **existing})


def _slug(name: str) -> str:
    words = normalise_name(name).encode("ascii", "ignore").decode().split()
    return "-".join(words)[:48].strip("-")


def _mode_per(frame: pd.DataFrame, key: str, column: str) -> pd.Series:
    """The most frequent non-empty value of ``column`` per ``key`` (ties: first seen)."""
    present = frame[frame[column] != ""]
    counts = present.groupby([key, column], sort=False).size().reset_index(name="n")
    best = counts.sort_values("n", ascending=False, kind="stable").drop_duplicates(key)
    return best.set_index(key)[column]


def _nodes(
    parties: pd.DataFrame, records: pd.DataFrame, into: Bundle | None, resolution: EntityResolution
) -> pd.DataFrame:
    """Bundle nodes (kept as they are, plus match notes) and one new supplier per new company."""
    import pandas as pd

    found = parties[parties["role"] != "node"]
    shipped = found[(found["role"] == "shipper") & (found["alias"] == 0)]
    shipped_records = records.iloc[shipped["ref"].to_numpy()].assign(
        node=shipped["node"].to_numpy()
    )
    new_ids = found.loc[~found["node"].isin(into.nodes["id"] if into else []), "node"].unique()
    new = pd.DataFrame({"id": new_ids, "kind": SUPPLIER})
    for column, source, frame in (
        ("name", "name", found[~map_distinct(found["name"], _has_cjk)]),
        ("address", "address", found),
        ("country", "country", found),
        ("hs_code", "hs_code", shipped_records),
        ("description", "goods_description", shipped_records),
        ("port_of_lading", "port_of_lading", shipped_records),
    ):
        new[column] = new["id"].map(_mode_per(frame, "node", source)).astype(object).fillna("")
    new["name"] = new["name"].where(
        new["name"] != "", new["id"].map(_mode_per(found, "node", "name"))
    )
    new["found_in"] = "import records"
    notes = _match_notes(parties, resolution)
    ports = _port_evidence(shipped_records)
    base = into.nodes.copy() if into is not None else pd.DataFrame(columns=["id"])
    nodes = pd.concat([base, new], ignore_index=True)
    nodes["records"] = nodes["id"].map(found.groupby("node")["ref"].nunique()).fillna(0)
    nodes["records"] = nodes["records"].astype(int).astype(str)
    variants = nodes["id"].map(notes["merged_from"])
    nodes["merged_from"] = [
        _capped([v for v in names if v != own]) if isinstance(names, list) else ""
        for names, own in zip(variants, nodes["name"])
    ]
    nodes["match_reason"] = nodes["id"].map(notes["reason"]).fillna("")
    nodes["port_evidence"] = nodes["id"].map(ports).fillna("")
    text = [c for c in nodes.columns if c != "exposure"]
    nodes[text] = nodes[text].fillna("").astype(str)
    return nodes


def _match_notes(parties: pd.DataFrame, resolution: EntityResolution) -> pd.DataFrame:
    """Per node: the name variants merged into it and the reasons of those merges."""
    import pandas as pd

    distinct = parties[["node", "name"]].drop_duplicates().sort_values(["node", "name"])
    variants = distinct.groupby("node")["name"].agg(list)
    merges = resolution.merges
    node = parties["node"].to_numpy()
    reasons = pd.DataFrame({"node": node[merges["a"].to_numpy()], "reason": merges["reason"]})
    distinct = distinct.assign(
        key=map_distinct(distinct["name"], lambda n: compact(normalise_name(n)))
    )
    spelt = distinct.groupby("node").agg(names=("name", "nunique"), keys=("key", "nunique"))
    spelt = spelt[spelt["names"] > spelt["keys"]]
    same = pd.DataFrame({"node": spelt.index, "reason": "same name after normalisation"})
    reasons = pd.concat([reasons, same], ignore_index=True)
    reasons = reasons.drop_duplicates().sort_values(["node", "reason"])
    reason = reasons.groupby("node")["reason"].agg(lambda r: _capped(list(r), 5))
    return pd.DataFrame({"merged_from": variants, "reason": reason}).fillna("")


def _capped(items: list[str], limit: int = MAX_VARIANTS) -> str:
    more = f" | (+{len(items) - limit} more)" if len(items) > limit else ""
    return " | ".join(items[:limit]) + more


def _port_evidence(shipped: pd.DataFrame) -> pd.Series:
    """Per shipper node: 'port of lading ... = Dalian (Liaoning), on k of n records'."""
    ports = shipped["port_of_lading"].drop_duplicates()
    signal = {p: liaoning_port(p) for p in ports}
    hit = shipped["port_of_lading"].map({p: signal[p] is not None for p in signal})
    totals = shipped.groupby("node").size()
    liaoning = shipped[hit]
    top = _mode_per(liaoning, "node", "port_of_lading")
    counts = liaoning.groupby("node").size()
    return top.index.to_series().map(
        lambda n: f"{signal[top[n]].evidence}; Liaoning ports on {counts[n]} of {totals[n]} records"
    )


def _edges(
    parties: pd.DataFrame, records: pd.DataFrame, into: Bundle | None
) -> tuple[pd.DataFrame, list[Problem]]:
    """One SUPPLIES edge per shipper -> consignee pair, with share, confidence and evidence."""
    import pandas as pd

    main = parties[parties["alias"] == 0]
    ends = {
        role: main[main["role"] == role].set_index("ref")[["node", "quality"]]
        for role in ("shipper", "consignee")
    }
    links = records[["record_id", "row", "goods_description", "value_usd", "weight_kg"]].copy()
    links["source"] = ends["shipper"]["node"].reindex(range(len(records))).to_numpy()
    links["target"] = ends["consignee"]["node"].reindex(range(len(records))).to_numpy()
    quality = pd.concat(
        [ends[r]["quality"].map(CONFIDENCE).reindex(range(len(records))) for r in ends], axis=1
    )
    links["confidence"] = quality.min(axis=1).to_numpy()
    links["record_id"] = links["record_id"].where(
        links["record_id"] != "", "row " + links["row"].astype(str)
    )
    loops = links["source"] == links["target"]
    problems = [
        Problem(
            records.attrs.get("label", "records"),
            int(r.row),
            None,
            f"shipper and consignee resolve to the same company {r.source!r}; record skipped",
            WARNING,
        )
        for r in links[loops].itertuples()
    ]
    links = links[~loops]
    links["amount"] = _amounts(links)
    links["edge"] = links["source"] + " -> " + links["target"]
    edges = (
        links.groupby("edge", sort=False)
        .agg(
            source=("source", "first"),
            target=("target", "first"),
            amount=("amount", "sum"),
            confidence=("confidence", "max"),
            records=("record_id", "size"),
            value_usd=("value_usd", "sum"),
            weight_kg=("weight_kg", "sum"),
        )
        .reset_index()
    )
    shown = links.groupby("edge", sort=False).head(MAX_EVIDENCE_IDS)
    ids = shown.groupby("edge", sort=False)["record_id"].agg("; ".join)
    edges["evidence"] = [
        _evidence(ids[edge], count) for edge, count in zip(edges["edge"], edges["records"])
    ]
    edges["item"] = _mode_per(links, "edge", "goods_description").reindex(edges["edge"]).to_numpy()
    edges["item"] = edges["item"].astype(object).fillna("")
    edges["share"] = edges["amount"] / edges.groupby("target")["amount"].transform("sum")
    edges["records"] = edges["records"].astype(str)
    edges["kind"] = SUPPLIES
    edges = edges.drop(columns=["edge", "amount"])
    return _merge_edges(edges, into), problems


def _amounts(links: pd.DataFrame) -> pd.Series:
    """Value, else weight x the consignee's (else the file's) average value per kg."""
    both = links["value_usd"].notna() & links["weight_kg"].notna()
    per_kg = links[both].groupby("target")[["value_usd", "weight_kg"]].sum()
    overall = per_kg["value_usd"].sum() / per_kg["weight_kg"].sum() if len(per_kg) else float("nan")
    rate = links["target"].map(per_kg["value_usd"] / per_kg["weight_kg"]).astype(float)
    rate = rate.fillna(overall)
    if rate.isna().all():
        rate = rate.fillna(1.0) if links["value_usd"].isna().all() else rate
    return links["value_usd"].fillna(links["weight_kg"] * rate).fillna(0.0)


def _evidence(shown_ids: str, count: int) -> str:
    more = f" (+{count - MAX_EVIDENCE_IDS} more)" if count > MAX_EVIDENCE_IDS else ""
    return f"import records ({count}): {shown_ids}{more}"


def _merge_edges(new: pd.DataFrame, into: Bundle | None) -> pd.DataFrame:
    """Add record edges to the bundle's edges, keeping declared shares and links as they are."""
    import numpy as np
    import pandas as pd

    if into is None:
        return new
    old = into.edges.copy()
    key_old = old["source"] + "\0" + old["target"]
    key_new = new["source"] + "\0" + new["target"]
    seen = new.set_index(key_new)["evidence"]
    also = key_old.map(seen)
    old["evidence"] = np.where(
        also.notna(),
        old["evidence"].str.cat(("also in " + also.fillna("")), sep="; ").str.strip("; "),
        old["evidence"],
    )
    new = new[~key_new.isin(key_old)].copy()
    declared = old.groupby("target")["share"]
    room = (1 - declared.sum(min_count=1).fillna(0)).clip(lower=0)
    unshared = declared.apply(lambda s: s.isna().any())
    new["share"] = new["share"] * new["target"].map(room).fillna(1)
    new.loc[new["target"].map(unshared).fillna(False).astype(bool), "share"] = np.nan
    return pd.concat([old, new], ignore_index=True)


def _validated(nodes: pd.DataFrame, edges: pd.DataFrame, warnings: list[Problem]) -> Bundle:
    """Run the bundle validation on the result (as text, as if read from disk)."""
    from graphkit.io.tables import RawTable
    from graphkit.io.validate import build_bundle

    bundle = build_bundle(
        RawTable("result nodes", _as_text(nodes)), RawTable("result edges", _as_text(edges))
    )
    bundle.warnings = warnings + bundle.warnings
    return bundle


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    import pandas as pd

    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_float_dtype(out[column]):
            out[column] = out[column].map(lambda x: "" if x != x else f"{x:.12g}")
    return out.fillna("").astype(str)


def _candidate_table(parties: pd.DataFrame, candidates: pd.DataFrame) -> pd.DataFrame:
    """Uncertain matches between different nodes, for an analyst to confirm or reject."""
    import pandas as pd

    a = parties.iloc[candidates["a"].to_numpy()]
    b = parties.iloc[candidates["b"].to_numpy()]
    table = pd.DataFrame(
        {
            "node_a": a["node"].to_numpy(),
            "name_a": a["name"].to_numpy(),
            "node_b": b["node"].to_numpy(),
            "name_b": b["name"].to_numpy(),
            "score": candidates["score"].round(1).to_numpy(),
            "reason": candidates["reason"].to_numpy(),
            "surely_different": candidates["veto"].to_numpy(),
        }
    )
    table = table[table["node_a"] != table["node_b"]]
    return table.sort_values("score", ascending=False).drop_duplicates(["name_a", "name_b"])


# --- the whole job ------------------------------------------------------------------------


def ingest(
    records_path: str | Path,
    out: str | Path,
    mapping_path: str | Path | None = None,
    into: str | Path | None = None,
    preset: str | None = None,
    skip_invalid: bool = False,
) -> IngestResult:
    """Read records (and the bundle ``into``), build the merged bundle, write it to ``out``.

    ``out`` is a bundle folder; it receives nodes.csv, edges.csv and match_candidates.csv
    (and rejected_records.csv with ``skip_invalid``) together, or nothing at all when
    anything fails.
    """
    import pandas as pd

    from graphkit.io import read_bundle, write_bundle
    from graphkit.io.atomic import staged_dir
    from graphkit.io.safe_csv import write_csv

    mapping = load_mapping(mapping_path, preset)
    records = read_records(records_path, mapping, skip_invalid)
    result = records_to_bundle(records, read_bundle(into) if into else None)
    with staged_dir(out) as stage:
        write_bundle(result.bundle, stage, "csv")
        write_csv(result.candidates, stage / CANDIDATES_FILE)
        if skip_invalid:
            rejected = pd.DataFrame(records.attrs["rejected"], columns=REJECTED_COLUMNS)
            write_csv(rejected, stage / REJECTED_FILE)
    return result
