// The graphkit relationships already in the database, one typed scan per relationship
// type with labelled endpoints (never a scan of every relationship in the database).
// Used by load to find what a changed bundle no longer has; streamed in batches.
// Parameters: none
// Returns: kind, source (id), target (id)
MATCH (s:Supplier)-[r:SUPPLIES]->(t:Supplier)
RETURN 'SUPPLIES' AS kind, s.id AS source, t.id AS target
UNION ALL
MATCH (s:Supplier)-[r:MAKES]->(t:Component)
RETURN 'MAKES' AS kind, s.id AS source, t.id AS target
UNION ALL
MATCH (s:Component)-[r:PART_OF]->(t:Component)
RETURN 'PART_OF' AS kind, s.id AS source, t.id AS target
UNION ALL
MATCH (s:Component)-[r:USED_BY]->(t:Supplier)
RETURN 'USED_BY' AS kind, s.id AS source, t.id AS target
