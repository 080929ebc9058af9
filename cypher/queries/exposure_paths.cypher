// Exposure paths into a product: chains of up to 6 links from a source node (tier 0 after
// `graphkit neo4j propagate`, or an analyst's explicit exposure > 0) to the product,
// strongest first (product of edge confidences, missing confidence counts as 1).
// Bounded: the expansion only walks through exposed nodes (exposure_reach > 0, which
// propagate writes on every node), so it never leaves the product's exposure subgraph.
// Parameters:
//   $product (str): id of the product (a Component) to explain
//   $limit (int, default 20): how many paths to list
// Returns: source, source_name, hops, strength, path (list of ids, source first)
MATCH p = (src)-[:SUPPLIES|MAKES|PART_OF|USED_BY*1..6]->(product:Component {id: $product})
WHERE (src.exposure_tier = 0 OR src.exposure > 0)
  AND all(x IN nodes(p) WHERE x.exposure_reach > 0)
WITH p, src, reduce(w = 1.0, r IN relationships(p) | w * coalesce(r.confidence, 1.0)) AS strength
RETURN src.id AS source, src.name AS source_name, length(p) AS hops, strength,
       [x IN nodes(p) | x.id] AS path
ORDER BY strength DESC, hops ASC
LIMIT $limit
