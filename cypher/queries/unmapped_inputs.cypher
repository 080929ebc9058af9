// Nodes whose inputs are unmapped: nodes with inputs whose mapped input shares (missing
// shares imputed as the engine does) sum to less than the threshold. Where mapping one
// more tier matters most comes first (highest exposure_reach, then largest unmapped share).
// Needs `graphkit neo4j propagate`: it writes the engine's unmapped remainder
// (exposure_unmapped, the same number as `graphkit info` and exposures.csv) and the number
// of inputs (exposure_inputs) on every node.
// Bounded on any server: a scan of the two labels, reading no relationship.
// Parameters:
//   $threshold (float, default 1.0): list nodes whose mapped share is below this
//   $limit (int, default 50): how many nodes to list
// Returns: id, kind, name, inputs, mapped_share, unmapped_share, reach
MATCH (n:Supplier|Component)
WHERE n.exposure_inputs > 0 AND 1.0 - n.exposure_unmapped < $threshold
RETURN n.id AS id, CASE WHEN n:Supplier THEN 'supplier' ELSE 'component' END AS kind,
       n.name AS name, n.exposure_inputs AS inputs, 1.0 - n.exposure_unmapped AS mapped_share,
       n.exposure_unmapped AS unmapped_share, n.exposure_reach AS reach
ORDER BY coalesce(reach, 0.0) DESC, unmapped_share DESC, id ASC
LIMIT $limit
