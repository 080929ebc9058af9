"""Readers and writers for supply-chain bundles."""
