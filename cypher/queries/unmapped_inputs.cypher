// Nodes whose inputs are unmapped: the mapped input shares (missing shares imputed as the
// engine does) sum to less than the threshold; a node with no inputs at all has 0 mapped.
// Where mapping one more tier matters most comes first (highest exposure_reach, then
// largest unmapped share).
// Needs `graphkit neo4j propagate`: it writes the engine's unmapped remainder
// (exposure_unmapped, the `unmapped` column of exposures.csv; for nodes with inputs the
// numbers `graphkit info` lists) and the number of inputs (exposure_inputs) on every node.
// Bounded on any server: a scan of the two labels, reading no relationship.
// Parameters:
//   $threshold (float, default 1.0): list nodes whose mapped share is below this
//   $limit (int, default 50): how many nodes to list
// Returns: id, kind, name, inputs, mapped_share, unmapped_share, reach
MATCH (n:Supplier|Component)
WHERE 1.0 - n.exposure_unmapped < $threshold
RETURN n.id AS id, CASE WHEN n:Supplier THEN 'supplier' ELSE 'component' END AS kind,
       n.name AS name, n.exposure_inputs AS inputs, 1.0 - n.exposure_unmapped AS mapped_share,
       n.exposure_unmapped AS unmapped_share, n.exposure_reach AS reach
ORDER BY coalesce(reach, 0.0) DESC, unmapped_share DESC, id ASC
LIMIT $limit
