"""Port of lading as location evidence: goods loaded at a port came from near there.

A bill of lading names the port where the goods were loaded. Liaoning's sea ports (Dalian,
Yingkou/Bayuquan, Dandong, Jinzhou, Huludao, Panjin, Donggang) handle most cargo made in the
province, so such a port is evidence, weaker than an address, that the shipper works there.
North Korea's ports (Nampo, Rajin, Chongjin, Hungnam, Haeju, Wonsan, Songnim…, and trade
data's "All Other North Korea Ports") are strong evidence: the goods left North Korea.
The port lists are graphkit/data/liaoning_ports.csv (names and historic names from the domain
brief; UN/LOCODEs from the UNECE code list for China) and graphkit/data/nk_ports.csv.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache

from graphkit.package_data import read_csv

_NOT_WORD = re.compile(r"[^0-9a-z\u4e00-\u9fff]+")


@dataclass(frozen=True)
class PortSignal:
    """A port of lading recognised as a Liaoning port, with the evidence text."""

    port: str
    province: str
    matched: str

    @property
    def evidence(self) -> str:
        return f"port of lading {self.matched!r} = {self.port} ({self.province})"


@cache
def _aliases() -> list[tuple[str, str, str]]:
    """(alias in comparable form, port, province), longest alias first."""
    rows = []
    for name in ("liaoning_ports.csv", "nk_ports.csv"):
        rows += [
            (_comparable(alias), row["port"], row["province"])
            for row in read_csv(name)
            for alias in row["aliases"].split(";")
        ]
    return sorted(rows, key=lambda r: len(r[0]), reverse=True)


def _comparable(text: str) -> str:
    return _NOT_WORD.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def port_of_lading(port_of_lading: str) -> PortSignal | None:
    """The Liaoning or North Korean port named in a port-of-lading cell, if any."""
    words = f" {_comparable(port_of_lading)} "
    for alias, port, province in _aliases():
        if f" {alias} " in words or (not alias.isascii() and alias in words):
            return PortSignal(port, province, port_of_lading.strip())
    return None


def liaoning_port(port_of_lading_text: str) -> PortSignal | None:
    """The Liaoning port named in a port-of-lading cell ('DALIAN, CHINA', 'CNDLC'), if any."""
    signal = port_of_lading(port_of_lading_text)
    return signal if signal and signal.province == "Liaoning" else None
