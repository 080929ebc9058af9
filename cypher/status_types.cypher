// Relationship counts per graphkit type, for `graphkit neo4j status`. One typed count per
// type with the start node's label, which Neo4j answers from its count store (no scan).
// Parameters: none
// Returns: type, count
MATCH (:Supplier)-[r:SUPPLIES]->()
RETURN 'SUPPLIES' AS type, count(r) AS count
UNION ALL
MATCH (:Supplier)-[r:MAKES]->()
RETURN 'MAKES' AS type, count(r) AS count
UNION ALL
MATCH (:Component)-[r:PART_OF]->()
RETURN 'PART_OF' AS type, count(r) AS count
UNION ALL
MATCH (:Component)-[r:USED_BY]->()
RETURN 'USED_BY' AS type, count(r) AS count
