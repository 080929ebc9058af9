// Every graphkit node with all its properties, streamed back into a bundle by export.
// Parameters: none
// Returns: kind ('supplier' | 'component'), props (map of all properties, incl. id)
MATCH (n:Supplier)
RETURN 'supplier' AS kind, properties(n) AS props
UNION ALL
MATCH (n:Component)
RETURN 'component' AS kind, properties(n) AS props
