// Sources reaching a buyer: every source node (tier 0 after propagate, or explicit
// exposure > 0) with a chain of up to 6 links to the buyer, nearest first.
// Bounded on any server: the reach is walked one link at a time, each level the DISTINCT
// nodes one link further upstream (at most every relationship once per level), so no
// path is enumerated or counted; a source's hops is the first level it appears in.
// Parameters:
//   $buyer (str): id of the buyer (a Supplier, usually the company itself)
//   $limit (int, default 50): how many sources to list
// Returns: source, name, country, province, sector, hops (links in the shortest chain)
MATCH (buyer:Supplier {id: $buyer})
OPTIONAL MATCH (buyer)<-[:SUPPLIES|MAKES|PART_OF|USED_BY]-(n1)
WITH collect(DISTINCT n1) AS l1
UNWIND CASE l1 WHEN [] THEN [null] ELSE l1 END AS x1
OPTIONAL MATCH (x1)<-[:SUPPLIES|MAKES|PART_OF|USED_BY]-(n2)
WITH l1, collect(DISTINCT n2) AS l2
UNWIND CASE l2 WHEN [] THEN [null] ELSE l2 END AS x2
OPTIONAL MATCH (x2)<-[:SUPPLIES|MAKES|PART_OF|USED_BY]-(n3)
WITH l1, l2, collect(DISTINCT n3) AS l3
UNWIND CASE l3 WHEN [] THEN [null] ELSE l3 END AS x3
OPTIONAL MATCH (x3)<-[:SUPPLIES|MAKES|PART_OF|USED_BY]-(n4)
WITH l1, l2, l3, collect(DISTINCT n4) AS l4
UNWIND CASE l4 WHEN [] THEN [null] ELSE l4 END AS x4
OPTIONAL MATCH (x4)<-[:SUPPLIES|MAKES|PART_OF|USED_BY]-(n5)
WITH l1, l2, l3, l4, collect(DISTINCT n5) AS l5
UNWIND CASE l5 WHEN [] THEN [null] ELSE l5 END AS x5
OPTIONAL MATCH (x5)<-[:SUPPLIES|MAKES|PART_OF|USED_BY]-(n6)
WITH l1, l2, l3, l4, l5, collect(DISTINCT n6) AS l6
WITH [l1, l2, l3, l4, l5, l6] AS levels
UNWIND range(0, 5) AS i
UNWIND levels[i] AS src
WITH src, min(i) + 1 AS hops
WHERE src.id <> $buyer AND (src.exposure_tier = 0 OR src.exposure > 0)
RETURN src.id AS source, src.name AS name, src.country AS country, src.province AS province,
       src.sector AS sector, hops
ORDER BY hops ASC, source ASC
LIMIT $limit
