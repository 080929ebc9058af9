// Every graphkit relationship with its properties, streamed back into a bundle by export.
// Parameters:
//   $kinds (list): the relationship types graphkit loads (SUPPLIES, MAKES, PART_OF, USED_BY)
// Returns: kind, source (id), target (id), props (map of all properties)
MATCH (s)-[r]->(t)
WHERE type(r) IN $kinds
RETURN type(r) AS kind, s.id AS source, t.id AS target, properties(r) AS props
