// The graphkit nodes already in the database, with their property keys.
// Used by load to find what a changed bundle no longer has (nodes, property keys).
// Parameters: none
// Returns: kind ('supplier' | 'component'), id, keys (list of property keys)
MATCH (n:Supplier)
RETURN 'supplier' AS kind, n.id AS id, keys(n) AS keys
UNION ALL
MATCH (n:Component)
RETURN 'component' AS kind, n.id AS id, keys(n) AS keys
