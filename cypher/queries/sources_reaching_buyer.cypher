// Sources reaching a buyer: every source node (tier 0 after propagate, or explicit
// exposure > 0) with a chain of up to 6 links to the buyer, nearest first.
// Bounded: DISTINCT (buyer, source) pairs over the reach (Neo4j prunes the expansion and
// never enumerates paths), then one shortestPath per pair for the hop count.
// Parameters:
//   $buyer (str): id of the buyer (a Supplier, usually the company itself)
//   $limit (int, default 50): how many sources to list
// Returns: source, name, country, province, sector, hops (links in the shortest chain)
MATCH (src)-[:SUPPLIES|MAKES|PART_OF|USED_BY*1..6]->(buyer:Supplier {id: $buyer})
WHERE src.exposure_tier = 0 OR src.exposure > 0
WITH DISTINCT buyer, src
MATCH p = shortestPath((src)-[:SUPPLIES|MAKES|PART_OF|USED_BY*1..6]->(buyer))
RETURN src.id AS source, src.name AS name, src.country AS country, src.province AS province,
       src.sector AS sector, length(p) AS hops
ORDER BY hops ASC, source ASC
LIMIT $limit
