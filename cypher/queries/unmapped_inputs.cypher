// Nodes whose inputs are unmapped: the mapped input shares sum to less than the
// threshold (a node with no inputs at all has 0 mapped). Where mapping one more tier
// matters most comes first (highest exposure_reach, then largest unmapped share).
// Parameters:
//   $threshold (float, default 1.0): list nodes whose mapped share is below this
//   $limit (int, default 50): how many nodes to list
// Returns: id, kind, name, inputs, mapped_share, unmapped_share, reach
MATCH (n)
WHERE n:Supplier OR n:Component
OPTIONAL MATCH (i)-[r:SUPPLIES|MAKES|PART_OF|USED_BY]->(n)
WITH n, count(r) AS inputs, sum(coalesce(r.share, 0.0)) AS mapped
WHERE mapped < $threshold
RETURN n.id AS id, CASE WHEN n:Supplier THEN 'supplier' ELSE 'component' END AS kind,
       n.name AS name, inputs, mapped AS mapped_share, 1.0 - mapped AS unmapped_share,
       n.exposure_reach AS reach
ORDER BY coalesce(reach, 0.0) DESC, unmapped_share DESC, id ASC
LIMIT $limit
