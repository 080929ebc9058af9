// Node counts per graphkit label, for `graphkit neo4j status`.
// Parameters: none
// Returns: label, count
MATCH (n:Supplier)
RETURN 'Supplier' AS label, count(n) AS count
UNION ALL
MATCH (n:Component)
RETURN 'Component' AS label, count(n) AS count
