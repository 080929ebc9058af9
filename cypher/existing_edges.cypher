// The graphkit relationships already in the database, with their property keys.
// Used by load to find what a changed bundle no longer has.
// Parameters:
//   $kinds (list): the relationship types graphkit loads (SUPPLIES, MAKES, PART_OF, USED_BY)
// Returns: kind, source (id), target (id), keys (list of property keys)
MATCH (s)-[r]->(t)
WHERE type(r) IN $kinds
RETURN type(r) AS kind, s.id AS source, t.id AS target, keys(r) AS keys
