"""Graph database backends."""
