// Top exposed suppliers: highest reach first. Needs `graphkit neo4j propagate` to have
// written the results.
// Parameters:
//   $limit (int, default 20): how many suppliers to list
// Returns: id, name, country, province, sector, reach, tier, sources
MATCH (n:Supplier)
WHERE n.exposure_reach > 0
RETURN n.id AS id, n.name AS name, n.country AS country, n.province AS province,
       n.sector AS sector, n.exposure_reach AS reach, n.exposure_tier AS tier,
       n.exposure_sources AS sources
ORDER BY reach DESC, id ASC
LIMIT $limit
