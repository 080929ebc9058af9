"""Sanctions screening: match node names against sanctions lists, with the list entry as evidence.

Three list formats are read (``read_sanctions_list``): the OpenSanctions ``targets.simple.csv``
export, FollowTheMoney JSON lines (``entities.ftm.json``: one entity per line; ``Sanction``
entities give the program of the entity they point to) and a plain CSV with a ``name`` column
(optional ``id``, ``schema``, ``aliases``, ``countries``, ``addresses``, ``identifiers``,
``sanctions``).

Matching (``match_names``) works in two steps:

1. **retrieval**: every list name and every query name is cut into character trigrams of
   its tokens (graphkit.names); a sparse TF-IDF product gives each query its CANDIDATES most
   similar list names, so the cost is bounded per query, never all pairs;
2. **scoring** (``name_score``): the tokens of the two names are aligned one to one, best
   first; each aligned pair scores its string similarity (1.0 for the same phonetic key,
   numbers must be equal, a person's initial matches its name). The score is the
   IDF-weighted share of both names' tokens that align, 0..100: rare words ("hizballah")
   count, common ones ("trading", "company") little. People's names align in any order
   ("CHANG, Shi-Fu" = "Shi Fu CHANG"); organisation types are removed first (rigour).

A **strong** match (the node becomes a source) has a score >= ``threshold`` and, when the name
is short (one distinctive token, or fewer than LONG_NAME_CHARS letters: CEMEX/CIMEX), is equal
after normalisation or corroborated by the country, an address or an identifier of the entry.
A country or address that contradicts the entry keeps a match weak. A **weak** match (score >=
``weak``) is listed for an analyst.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from rapidfuzz.distance import Indel

from graphkit.errors import WARNING, InvalidInput, Problem
from graphkit.names import MAX_NAME_CHARS, name_tokens, truncated

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from graphkit.model import Bundle

#: default score (0..100) of a strong match
STRONG_SCORE = 90.0
#: default score (0..100) of a weak match
WEAK_SCORE = 80.0
#: list names scored per query name after retrieval
CANDIDATES = 24
#: a name with fewer letters (or one distinctive token) needs more than similarity to be strong
LONG_NAME_CHARS = 12
#: score a short name needs to match at all (CEMEX ~ CIMEX is 80)
SHORT_SCORE = 85.0
#: aligned score from which the plain string similarity may count instead (see _plain_score)
PLAIN_NEEDS_ALIGNED = 55.0
#: shortest tokens whose phonetic keys count (shorter ones: too many collisions)
PHONETIC_MIN_LENGTH = 6
#: token pairs less similar than this do not align
MIN_TOKEN_SIMILARITY = 0.6
#: similarity of two tokens with the same phonetic key (hizballah ~ hezbollah)
PHONETIC_SIMILARITY = 0.9
#: the most an industry or generic word ('cement', 'trading') weighs (a rare name word: ~10)
GENERIC_WEIGHT = 2.0
PERSON = "Person"
_DIGITS = re.compile(r"\d+")

MATCH_COLUMNS = [
    "node",
    "node_name",
    "list",
    "list_sha256",
    "list_entity",
    "schema",
    "program",
    "matched_name",
    "score",
    "strong",
    "reason",
]
#: node columns apply_sanctions writes (the provenance of a strong match)
PROVENANCE = {
    "sanctions_list": "list",
    "sanctions_list_sha256": "list_sha256",
    "sanctions_entity": "list_entity",
    "sanctions_program": "program",
    "sanctions_name": "matched_name",
    "sanctions_score": "score",
    "sanctions_reason": "reason",
}
SIMPLE_COLUMNS = ("id", "schema", "name", "aliases", "countries", "addresses", "identifiers")
FTM_NAMES = ("name", "alias", "previousName", "abbreviation")
FTM_IDS = ("registrationNumber", "idNumber", "imoNumber", "taxNumber", "innCode", "ogrnCode")
FTM_COUNTRIES = ("country", "jurisdiction", "nationality", "citizenship", "mainCountry", "flag")


# --- reading lists ----------------------------------------------------------------------


@dataclass
class SanctionsList:
    """One list: its entries (one row per entity) and its names (one row per name or alias)."""

    label: str
    sha256: str
    entries: pd.DataFrame
    names: pd.DataFrame
    warnings: list[Problem] = field(default_factory=list)


def read_sanctions_list(path: str | Path) -> SanctionsList:
    """Read a targets.simple.csv, FtM JSON lines or plain CSV list; InvalidInput on bad input."""
    path = Path(path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    is_json = path.suffix.lower() in (".json", ".jsonl", ".ndjson")
    entries = _read_ftm(path) if is_json else _read_csv(path)
    return _listed(path.name, digest, entries)


def _read_csv(path: Path) -> pd.DataFrame:
    from graphkit.io.tables import read_csv_table

    raw = read_csv_table(path)
    if raw.frame is None:
        raise InvalidInput(raw.problems)
    frame = raw.frame
    if frame.empty:
        raise InvalidInput([Problem(raw.label, None, None, "file has a header but no rows")])
    if "name" not in frame.columns:
        found = ", ".join(frame.columns) or "none"
        problem = Problem(raw.label, 1, "name", f"required column is missing (found: {found})")
        raise InvalidInput([problem])
    empty = (frame["name"].str.strip() == "").to_numpy().nonzero()[0]
    if len(empty):
        rows = [raw.row_number(int(i)) for i in empty]
        raise InvalidInput([Problem(raw.label, r, "name", "name is empty") for r in rows])
    entries = frame.reindex(columns=list(SIMPLE_COLUMNS), fill_value="")
    rows = [f"row {raw.row_number(i)}" for i in range(len(frame))]
    entries["id"] = entries["id"].where(entries["id"] != "", rows)
    entries["program"] = frame["sanctions"] if "sanctions" in frame.columns else ""
    entries["row"] = [raw.row_number(i) for i in range(len(frame))]
    return entries


def _read_ftm(path: Path) -> pd.DataFrame:
    """FollowTheMoney entities, one JSON object per line; Sanction entities give programs."""
    import pandas as pd

    entities, programs, problems = [], {}, []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                entity = json.loads(line)
                props = entity.get("properties", {})
            except (json.JSONDecodeError, AttributeError) as exc:
                problems.append(Problem(str(path), number, None, f"not a JSON entity: {exc}"))
                continue
            if entity.get("schema") == "Sanction":
                program = props.get("programId") or props.get("program") or []
                for target in props.get("entity", []):
                    programs.setdefault(target, []).extend(program)
            elif any(props.get(k) for k in FTM_NAMES):
                entities.append(_ftm_row(entity, props, number))
    if problems:
        raise InvalidInput(problems)
    if not entities:
        raise InvalidInput([Problem(str(path), None, "name", "no entity with a name")])
    frame = pd.DataFrame(entities, columns=[*SIMPLE_COLUMNS, "program", "row"])
    frame["program"] = [
        ";".join(dict.fromkeys(programs.get(i, []))) or own
        for i, own in zip(frame["id"], frame["program"])
    ]
    return frame


def _ftm_row(entity: dict, props: dict, number: int) -> tuple:
    def joined(keys: tuple[str, ...]) -> str:
        return ";".join(v for k in keys for v in props.get(k, []))

    names = [v for k in FTM_NAMES for v in props.get(k, [])]
    return (
        entity.get("id") or f"line {number}",
        entity.get("schema", ""),
        names[0],
        ";".join(names[1:]),
        joined(FTM_COUNTRIES),
        joined(("address",)),
        joined(FTM_IDS),
        joined(("program", "programId")),
        number,
    )


def _listed(label: str, digest: str, entries: pd.DataFrame) -> SanctionsList:
    """Split entries into one row per name; cut over-long names with a warning."""
    import pandas as pd

    entries = entries.fillna("").astype({"row": int}).reset_index(drop=True)
    names = (entries["name"] + ";" + entries["aliases"]).str.split(";")
    table = pd.DataFrame({"entry": entries.index, "name": names}).explode("name")
    table["name"] = table["name"].str.strip()
    table = table[table["name"] != ""].drop_duplicates().reset_index(drop=True)
    long = table["name"].map(truncated)
    warnings = [
        Problem(label, int(entries.at[e, "row"]), "name", _cut_message(n), WARNING)
        for e, n in zip(table.loc[long, "entry"], table.loc[long, "name"])
    ]
    table["person"] = (entries["schema"] == PERSON).to_numpy()[table["entry"].to_numpy()]
    entries["countries"] = entries["countries"].map(_codes)
    entries["identifiers"] = entries["identifiers"].map(_identifiers)
    return SanctionsList(label, digest, entries, table, warnings)


def long_name_warnings(nodes: pd.DataFrame, label: str) -> list[Problem]:
    """A warning for each node whose name is cut for matching (as for list names)."""
    long = nodes["name"].fillna("").astype(str).map(truncated)
    return [
        Problem(label, None, "name", f"node {i!r}: {_cut_message(n)}", WARNING)
        for i, n in zip(nodes.loc[long, "id"], nodes.loc[long, "name"])
    ]


def _cut_message(name: str) -> str:
    return f"name of {len(name):,} characters: only the first {MAX_NAME_CHARS:,} are matched"


def _codes(cell: str) -> frozenset[str]:
    return frozenset(c.strip().casefold() for c in cell.split(";") if c.strip())


def _identifiers(cell: str) -> frozenset[str]:
    return frozenset("".join(c.split()).casefold() for c in cell.split(";") if c.strip())


# --- scoring two names ------------------------------------------------------------------


@dataclass
class Weights:
    """Inverse document frequency of tokens over a list's names."""

    idf: dict[str, float]
    default: float
    #: industry words and legal forms rigour keeps ('company'; graphkit/data/company_words.toml)
    generic: frozenset[str] = frozenset()
    #: industry words only: names whose industry words all differ are other businesses
    industry: frozenset[str] = frozenset()
    #: legal forms rigour keeps ('co', 'company')
    legal: frozenset[str] = frozenset()

    def of(self, token: str) -> float:
        weight = self.idf.get(token, self.default)
        if token in self.generic or token.removesuffix("s") in self.generic:
            return min(weight, GENERIC_WEIGHT)
        return weight


def token_weights(token_lists: list[tuple[str, ...]]) -> Weights:
    """IDF of every token, log(1 + n / document frequency); generic words capped."""
    from collections import Counter

    from graphkit.resolve import words

    counts = Counter(t for tokens in token_lists for t in set(tokens))
    n = max(len(token_lists), 1)
    idf = {t: math.log1p(n / c) for t, c in counts.items()}
    lists = words()
    return Weights(
        idf, math.log1p(n), lists.generic | lists.legal_forms, lists.generic, lists.legal_forms
    )


@lru_cache(maxsize=1_000_000)
def _token_similarity(a: str, b: str, person: bool) -> float:
    """0..1: equal 1; numbers only when equal; a person's initial; phonetic key; Indel ratio."""
    if a == b:
        return 1.0
    if not (a + b).isalpha():
        return 0.0
    if person and min(len(a), len(b)) == 1:
        return 0.9 if a[0] == b[0] else 0.0
    similarity = Indel.normalized_similarity(a, b)
    long = min(len(a), len(b)) >= PHONETIC_MIN_LENGTH
    if long and similarity >= 0.5 and _phonetic(a) == _phonetic(b):
        similarity = max(similarity, PHONETIC_SIMILARITY)
    return similarity if similarity >= MIN_TOKEN_SIMILARITY else 0.0


def _phonetic(token: str) -> str:
    from rigour.text import metaphone

    return metaphone(token) if token.isalpha() else token


def _joined_tokens(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
    """Tokens of ``a`` with adjacent pairs joined where the join is a token of ``b``."""
    out, wanted, i = [], set(b), 0
    while i < len(a):
        if i + 1 < len(a) and a[i] + a[i + 1] in wanted:
            out.append(a[i] + a[i + 1])
            i += 2
        else:
            out.append(a[i])
            i += 1
    return tuple(out)


def name_score(
    a: tuple[str, ...], b: tuple[str, ...], weights: Weights, person: bool = False
) -> tuple[float, list[str]]:
    """Score 0..100 of two token tuples and the aligned pairs that differ (for the reason)."""
    a, b = _joined_tokens(a, b), _joined_tokens(b, a)
    numbers = _DIGITS.findall(" ".join(a)), _DIGITS.findall(" ".join(b))
    if not a or not b or (all(numbers) and numbers[0] != numbers[1]):
        return 0.0, []  # no name, or other numbers: No.1 / No.2 are two sites
    pairs = sorted(
        ((_token_similarity(x, y, person), i, j) for i, x in enumerate(a) for j, y in enumerate(b)),
        reverse=True,
    )
    used_a, used_b, matched, differing = set(), set(), 0.0, []
    for similarity, i, j in pairs:
        if similarity <= 0:
            break
        if i in used_a or j in used_b:
            continue
        used_a.add(i)
        used_b.add(j)
        matched += similarity * (weights.of(a[i]) + weights.of(b[j]))
        if a[i] != b[j]:
            differing.append(f"{a[i]!r}~{b[j]!r}")
    if _other_business(a, b, used_a, weights.industry):
        return 0.0, differing
    total = sum(
        weights.of(t)
        for tokens, used in ((a, used_a), (b, used_b))
        for i, t in enumerate(tokens)
        if i in used or t not in weights.legal
    )  # a legal form on one side only ('co' vs none) costs nothing
    aligned = 100.0 * matched / total
    plain = _plain_score(a, b) if aligned >= PLAIN_NEEDS_ALIGNED else 0.0
    score = max(aligned, plain)
    short = min(sum(map(len, a)), sum(map(len, b))) < LONG_NAME_CHARS
    return (score if not short or score >= SHORT_SCORE else 0.0), differing


def _other_business(a: tuple[str, ...], b: tuple[str, ...], used_a: set, generic) -> bool:
    """Both names carry industry words and none of them align: 'Dragon Products' vs 'Dragon
    Trading', 'Sinai Cement' vs 'Sina Investment Management'."""

    def industry(tokens: tuple[str, ...]) -> list[int]:
        return [i for i, t in enumerate(tokens) if t in generic or t.removesuffix("s") in generic]

    mine, theirs = industry(a), industry(b)
    return bool(mine and theirs) and not used_a.intersection(mine)


def _plain_score(a: tuple[str, ...], b: tuple[str, ...]) -> float:
    """Indel similarity of the names as written and with sorted tokens, 0..100.

    Catches spellings that token alignment splits badly ('TALIBANO ISLAMI TAHRIK' ~ 'TAHRIKE
    ISLAMI'A TALIBAN'); counted only when the aligned score is at least PLAIN_NEEDS_ALIGNED,
    so that shared common words ('INTERNATIONAL TRADING') do not make a match.
    """
    joined = Indel.normalized_similarity(" ".join(a), " ".join(b))
    ordered = Indel.normalized_similarity(" ".join(sorted(a)), " ".join(sorted(b)))
    return 100.0 * max(joined, ordered)


# --- matching many names ----------------------------------------------------------------


def _trigrams(tokens: tuple[str, ...]) -> list[str]:
    grams = []
    for token in tokens:
        padded = f" {token} "
        grams += [padded[i : i + 3] for i in range(len(padded) - 2)]
    return grams


class _Index:
    """TF-IDF trigram vectors of a list's names, for retrieving candidates by a sparse product."""

    def __init__(self, token_lists: list[tuple[str, ...]]) -> None:
        from collections import Counter

        self.vocabulary: dict[str, int] = {}
        grams = [Counter(_trigrams(t)) for t in token_lists]
        for counter in grams:
            for gram in counter:
                self.vocabulary.setdefault(gram, len(self.vocabulary))
        df = Counter(g for counter in grams for g in counter)
        n = max(len(token_lists), 1)
        self.idf = {g: math.log1p(n / c) for g, c in df.items()}
        self.matrix = self._vectors(grams).T.tocsr()

    def _vectors(self, grams: list) -> object:
        import numpy as np
        from scipy.sparse import csr_matrix

        rows, cols, values = [], [], []
        for row, counter in enumerate(grams):
            for gram, count in counter.items():
                column = self.vocabulary.get(gram)
                if column is not None:
                    rows.append(row)
                    cols.append(column)
                    values.append(count * self.idf[gram])
        shape = (len(grams), len(self.vocabulary))
        matrix = csr_matrix((values, (rows, cols)), shape=shape, dtype=np.float32)
        norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        return csr_matrix(matrix.multiply(1 / norms[:, None]))

    def nearest(self, token_lists: list[tuple[str, ...]], k: int) -> list[np.ndarray]:
        """The k most similar list names of each query, by cosine of trigram vectors."""
        from collections import Counter

        import numpy as np

        found = []
        for start in range(0, len(token_lists), 512):
            chunk = [Counter(_trigrams(t)) for t in token_lists[start : start + 512]]
            product = (self._vectors(chunk) @ self.matrix).tocsr()
            for row in range(product.shape[0]):
                cells = slice(product.indptr[row], product.indptr[row + 1])
                columns, scores = product.indices[cells], product.data[cells]
                best = np.argpartition(-scores, k)[:k] if len(scores) > k else slice(None)
                found.append(columns[best])
        return found


@dataclass
class Query:
    """Names to screen, with what corroborates a match: country code, address, identifiers."""

    ids: list[str]
    names: list[str]
    countries: list[str]
    addresses: list[str]
    identifiers: list[str]


def match_names(
    query: Query,
    listed: SanctionsList,
    threshold: float = STRONG_SCORE,
    weak: float = WEAK_SCORE,
    skip: list[int] | None = None,
) -> pd.DataFrame:
    """Strong and weak matches of every query name against the list (MATCH_COLUMNS).

    ``skip`` gives per query one list-name position to leave out (-1: none), for evaluating
    an alias with itself removed from its entry.
    """
    import pandas as pd

    names, entries = listed.names, listed.entries
    person = names["person"].to_numpy()
    tokens = [name_tokens(n, bool(p)) for n, p in zip(names["name"], person)]
    weights = token_weights(tokens)
    index = _Index(tokens)
    rows = []
    query_tokens = [name_tokens(n) for n in query.names]
    for q, found in enumerate(index.nearest(query_tokens, CANDIDATES + 1)):
        best: dict[int, tuple] = {}
        for position in found:
            if skip is not None and position == skip[q]:
                continue
            is_person = bool(person[position])
            q_tokens = name_tokens(query.names[q], is_person) if is_person else query_tokens[q]
            score, differing = name_score(q_tokens, tokens[position], weights, is_person)
            entry = int(names.iat[position, 0])
            if score >= weak and score > best.get(entry, (0.0,))[0]:
                best[entry] = (score, differing, tokens[position], position)
        for entry, (score, differing, l_tokens, position) in best.items():
            strong, reason = _verdict(query, q, entries.loc[entry], score, differing, threshold)
            strong = strong and _distinctive(l_tokens, weights, reason)
            rows.append(
                (
                    query.ids[q],
                    query.names[q],
                    listed.label,
                    listed.sha256,
                    entries.at[entry, "id"],
                    entries.at[entry, "schema"],
                    entries.at[entry, "program"],
                    names.iat[position, 1],
                    round(score, 1),
                    strong,
                    reason,
                )
            )
    matches = pd.DataFrame(rows, columns=MATCH_COLUMNS)
    return matches.sort_values(["strong", "score"], ascending=False, kind="stable").reset_index(
        drop=True
    )


def _distinctive(tokens: tuple[str, ...], weights: Weights, reason: str) -> bool:
    """A name of industry words only ('trading company') is strong only when corroborated."""
    generic = weights.generic
    named = any(t not in generic and t.removesuffix("s") not in generic for t in tokens)
    return named or "agrees" in reason


def _verdict(
    query: Query, q: int, entry: pd.Series, score: float, differing: list[str], threshold: float
) -> tuple[bool, str]:
    """Whether a match is strong, and the reason in words."""
    tokens = name_tokens(query.names[q])
    similar = (
        "names equal after normalisation"
        if not differing and score >= 99.95
        else (
            f"similar names, score {score:.0f}"
            + (f" ({', '.join(differing[:4])})" if differing else "")
        )
    )
    agrees, conflicts = _corroboration(query, q, entry)
    long = len(tokens) >= 2 and sum(map(len, tokens)) >= LONG_NAME_CHARS
    equal = similar.startswith("names equal")
    if conflicts:
        return False, f"{similar}; but {conflicts}"
    if score < threshold:
        return False, f"{similar}; below the strong threshold {threshold:g}"
    if agrees:
        return True, f"{similar}; {agrees}"
    if equal or long:
        return True, similar
    return False, f"{similar}; short name: similarity alone is not enough"


def _corroboration(query: Query, q: int, entry: pd.Series) -> tuple[str, str]:
    """What agrees with the entry (identifier, country, address) and what contradicts it."""
    from rigour.addresses import normalize_address

    identifiers = _identifiers(query.identifiers[q])
    if identifiers & entry["identifiers"]:
        return f"identifier agrees ({sorted(identifiers & entry['identifiers'])[0]})", ""
    country = query.countries[q].strip().casefold()
    listed = entry["countries"]
    address = normalize_address(query.addresses[q]) or ""
    near = address and any(
        _address_agrees(address, a) for a in entry["addresses"].split(";") if a.strip()
    )
    if near:
        return "address agrees", ""
    if country and listed:
        if country in listed:
            return f"country agrees ({country})", ""
        return "", f"country differs ({country} vs {', '.join(sorted(listed))})"
    return "", ""


def _address_agrees(address: str, listed: str) -> bool:
    from rapidfuzz import fuzz
    from rigour.addresses import normalize_address

    other = normalize_address(listed) or ""
    return bool(other) and fuzz.token_set_ratio(address, other) >= 90


# --- bundles ----------------------------------------------------------------------------


def node_query(nodes: pd.DataFrame) -> Query:
    """The named nodes of a bundle as a Query (country, address, identifiers when present)."""
    named = nodes[nodes["name"].fillna("").str.strip() != ""]

    def column(name: str) -> list[str]:
        return (
            list(named[name].fillna("").astype(str)) if name in named.columns else [""] * len(named)
        )

    return Query(
        list(named["id"]), list(named["name"]), column("country"), column("address"),
        column("identifiers"),
    )  # fmt: skip


def screen_sanctions(
    nodes: pd.DataFrame,
    list_paths: str | Path | list,
    threshold: float = STRONG_SCORE,
    weak: float = WEAK_SCORE,
) -> tuple[pd.DataFrame, list[SanctionsList]]:
    """Matches of the nodes against each list (MATCH_COLUMNS), and the lists read."""
    import pandas as pd

    paths = [list_paths] if isinstance(list_paths, (str, Path)) else list(list_paths)
    lists = [read_sanctions_list(p) for p in paths]
    query = node_query(nodes)
    found = [match_names(query, listed, threshold, weak) for listed in lists]
    matches = pd.concat(found, ignore_index=True) if found else pd.DataFrame(columns=MATCH_COLUMNS)
    matches = matches.sort_values(["strong", "score"], ascending=False, kind="stable")
    return matches.reset_index(drop=True), lists


def apply_sanctions(bundle: Bundle, matches: pd.DataFrame) -> Bundle:
    """Strongly matched nodes become sources: exposure = max(exposure, score / 100).

    The best strong match of each node is written into the PROVENANCE columns (list, its
    SHA-256, entity, program, matched name, score, reason), which the screening evidence,
    exposures.csv, the report and the views show.
    """
    import numpy as np

    if matches.empty or not matches["strong"].astype(bool).any():
        return bundle
    strong = matches[matches["strong"].astype(bool)]
    best = strong.drop_duplicates("node").set_index("node")
    nodes = bundle.nodes.copy()
    score = nodes["id"].map(best["score"].astype(float) / 100)
    nodes["exposure"] = np.fmax(nodes["exposure"].to_numpy(dtype=float), score.to_numpy())
    for column, source in PROVENANCE.items():
        nodes[column] = nodes["id"].map(best[source].astype(str)).fillna("") if len(best) else ""
    return type(bundle)(nodes, bundle.edges, bundle.origin, bundle.warnings)


def sanctions_evidence(row: dict) -> str:
    """The list entry behind a node's exposure, in words ('' when the node has none)."""
    if not row.get("sanctions_entity"):
        return ""
    return (
        f"sanctions list {row['sanctions_list']} (sha256 {row['sanctions_list_sha256'][:12]}): "
        f"entity {row['sanctions_entity']}, program {row.get('sanctions_program') or 'unknown'}, "
        f"matched name {row['sanctions_name']!r}, score {row['sanctions_score']} "
        f"({row.get('sanctions_reason', '')})"
    )


def listed_evidence(nodes: pd.DataFrame, evidence: pd.Series, explicit: np.ndarray) -> pd.Series:
    """Source evidence naming the list entry where an explicit exposure came from a list."""
    if "sanctions_entity" not in nodes.columns:
        return evidence
    listed = [sanctions_evidence(row) for row in nodes.astype(object).fillna("").to_dict("records")]
    score = evidence.str.replace(" given by the analyst", "", regex=False)
    named = [f"{s} from {text}" if text else "" for s, text in zip(score, listed)]
    use = explicit & (nodes["sanctions_entity"].fillna("").to_numpy() != "")
    return evidence.where(~use, named)


def with_provenance(rows: pd.DataFrame, nodes: pd.DataFrame) -> pd.DataFrame:
    """Result rows (indexed by node id) with the nodes' sanctions provenance columns, if any."""
    present = [c for c in PROVENANCE if c in nodes.columns]
    if not present:
        return rows
    by_id = nodes.set_index("id")[present].fillna("")
    joined = rows.merge(by_id, left_on="id", right_index=True, how="left")
    return joined.fillna({c: "" for c in present})


def lists_used(nodes: pd.DataFrame) -> list[dict[str, str]]:
    """Every sanctions list a bundle's exposure came from: name and SHA-256."""
    if "sanctions_list" not in nodes.columns:
        return []
    used = nodes.loc[nodes["sanctions_list"].fillna("") != ""]
    pairs = used[["sanctions_list", "sanctions_list_sha256"]].drop_duplicates()
    return [{"list": name, "sha256": digest} for name, digest in pairs.itertuples(index=False)]
