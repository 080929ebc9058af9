// Top exposed products: final products (components not PART_OF another component),
// highest reach first. Needs `graphkit neo4j propagate` to have written the results.
// Parameters:
//   $limit (int, default 20): how many products to list
// Returns: id, name, reach, share, path, tier, sources
MATCH (n:Component)
WHERE n.exposure_reach > 0 AND NOT EXISTS { (n)-[:PART_OF]->(:Component) }
RETURN n.id AS id, n.name AS name, n.exposure_reach AS reach, n.exposure_share AS share,
       n.exposure_path AS path, n.exposure_tier AS tier, n.exposure_sources AS sources
ORDER BY reach DESC, id ASC
LIMIT $limit
