// The graphkit nodes already in the database (ids only; property keys come from
// node_keys). Used by load to find what a changed bundle no longer has; streamed.
// Parameters: none
// Returns: kind ('supplier' | 'component'), id
MATCH (n:Supplier)
RETURN 'supplier' AS kind, n.id AS id
UNION ALL
MATCH (n:Component)
RETURN 'component' AS kind, n.id AS id
