"""Screening: where a node is (geo), what it does (sectors), who it is (sanctions)."""
