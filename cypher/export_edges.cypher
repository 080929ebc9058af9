// Every graphkit relationship with its properties, one typed scan per relationship type
// with labelled endpoints; streamed to disk in batches by export.
// Parameters: none
// Returns: kind, source (id), target (id), props (map of all properties)
MATCH (s:Supplier)-[r:SUPPLIES]->(t:Supplier)
RETURN 'SUPPLIES' AS kind, s.id AS source, t.id AS target, properties(r) AS props
UNION ALL
MATCH (s:Supplier)-[r:MAKES]->(t:Component)
RETURN 'MAKES' AS kind, s.id AS source, t.id AS target, properties(r) AS props
UNION ALL
MATCH (s:Component)-[r:PART_OF]->(t:Component)
RETURN 'PART_OF' AS kind, s.id AS source, t.id AS target, properties(r) AS props
UNION ALL
MATCH (s:Component)-[r:USED_BY]->(t:Supplier)
RETURN 'USED_BY' AS kind, s.id AS source, t.id AS target, properties(r) AS props
