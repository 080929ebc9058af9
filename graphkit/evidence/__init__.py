"""Evidence packs: the supply-chain tracing file of one product, with a clearance plan."""

from graphkit.evidence.pack import PackInput, evidence_pack, prepare, write_pack

__all__ = ["PackInput", "evidence_pack", "prepare", "write_pack"]
