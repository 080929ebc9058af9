// The property keys found on graphkit nodes, per kind. Load removes the keys a changed
// bundle no longer has; export makes them its columns before streaming the rows.
// Parameters: none
// Returns: kind ('supplier' | 'component'), key
MATCH (n:Supplier)
UNWIND keys(n) AS key
RETURN DISTINCT 'supplier' AS kind, key
UNION ALL
MATCH (n:Component)
UNWIND keys(n) AS key
RETURN DISTINCT 'component' AS kind, key
