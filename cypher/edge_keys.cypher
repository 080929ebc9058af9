// The property keys found on graphkit relationships, per type (typed scans with labelled
// endpoints). Load removes the keys a changed bundle no longer has; export makes them its
// columns before streaming the rows.
// Parameters: none
// Returns: kind, key
MATCH (:Supplier)-[r:SUPPLIES]->(:Supplier)
UNWIND keys(r) AS key
RETURN DISTINCT 'SUPPLIES' AS kind, key
UNION ALL
MATCH (:Supplier)-[r:MAKES]->(:Component)
UNWIND keys(r) AS key
RETURN DISTINCT 'MAKES' AS kind, key
UNION ALL
MATCH (:Component)-[r:PART_OF]->(:Component)
UNWIND keys(r) AS key
RETURN DISTINCT 'PART_OF' AS kind, key
UNION ALL
MATCH (:Component)-[r:USED_BY]->(:Supplier)
UNWIND keys(r) AS key
RETURN DISTINCT 'USED_BY' AS kind, key
