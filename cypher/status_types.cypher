// Relationship counts per graphkit type, for `graphkit neo4j status`.
// Parameters:
//   $kinds (list): the relationship types graphkit loads (SUPPLIES, MAKES, PART_OF, USED_BY)
// Returns: type, count
MATCH ()-[r]->()
WHERE type(r) IN $kinds
RETURN type(r) AS type, count(r) AS count
