// Exposure paths into a product: for each source node (tier 0 after `graphkit neo4j
// propagate`, or an analyst's explicit exposure > 0) within 6 links of the product, its
// strongest chain (product of edge confidences, missing confidence counts as 1; the
// shorter chain on a tie), strongest first.
// Bounded on any server: the chains grow upstream one link at a time from the product,
// only through exposed nodes (exposure_reach > 0, which propagate writes on every node),
// keeping per node and level only the strongest chain so far: at most every relationship
// once per level, never every path.
// Parameters:
//   $product (str): id of the product (a Component) to explain
//   $limit (int, default 20): how many sources (chains) to list
// Returns: source, source_name, hops, strength, path (list of ids, source first); the
// product's own exposure is not a chain into it
MATCH (product:Component {id: $product})
WITH [{n: product, w: 1.0, ids: [product.id], done: false}] AS f
UNWIND CASE f WHEN [] THEN [null] ELSE f END AS e
WITH e, e.n AS x
OPTIONAL MATCH (m)-[r:SUPPLIES|MAKES|PART_OF|USED_BY]->(x)
WHERE NOT e.done AND m.exposure_reach > 0
WITH [c IN [CASE WHEN e.done OR x.exposure_tier = 0 OR x.exposure > 0
                 THEN {n: x, w: e.w, ids: e.ids, done: true} END,
            CASE WHEN m IS NOT NULL
                 THEN {n: m, w: e.w * coalesce(r.confidence, 1.0), ids: [m.id] + e.ids,
                       done: false} END] WHERE c IS NOT NULL] AS candidates
UNWIND candidates AS c
WITH c.n AS n, c.done AS done, collect(c) AS options
WITH collect(reduce(s = null, o IN options |
       CASE WHEN s IS NULL OR o.w > s.w OR (o.w = s.w AND size(o.ids) < size(s.ids))
            THEN o ELSE s END)) AS f
UNWIND CASE f WHEN [] THEN [null] ELSE f END AS e
WITH e, e.n AS x
OPTIONAL MATCH (m)-[r:SUPPLIES|MAKES|PART_OF|USED_BY]->(x)
WHERE NOT e.done AND m.exposure_reach > 0
WITH [c IN [CASE WHEN e.done OR x.exposure_tier = 0 OR x.exposure > 0
                 THEN {n: x, w: e.w, ids: e.ids, done: true} END,
            CASE WHEN m IS NOT NULL
                 THEN {n: m, w: e.w * coalesce(r.confidence, 1.0), ids: [m.id] + e.ids,
                       done: false} END] WHERE c IS NOT NULL] AS candidates
UNWIND candidates AS c
WITH c.n AS n, c.done AS done, collect(c) AS options
WITH collect(reduce(s = null, o IN options |
       CASE WHEN s IS NULL OR o.w > s.w OR (o.w = s.w AND size(o.ids) < size(s.ids))
            THEN o ELSE s END)) AS f
UNWIND CASE f WHEN [] THEN [null] ELSE f END AS e
WITH e, e.n AS x
OPTIONAL MATCH (m)-[r:SUPPLIES|MAKES|PART_OF|USED_BY]->(x)
WHERE NOT e.done AND m.exposure_reach > 0
WITH [c IN [CASE WHEN e.done OR x.exposure_tier = 0 OR x.exposure > 0
                 THEN {n: x, w: e.w, ids: e.ids, done: true} END,
            CASE WHEN m IS NOT NULL
                 THEN {n: m, w: e.w * coalesce(r.confidence, 1.0), ids: [m.id] + e.ids,
                       done: false} END] WHERE c IS NOT NULL] AS candidates
UNWIND candidates AS c
WITH c.n AS n, c.done AS done, collect(c) AS options
WITH collect(reduce(s = null, o IN options |
       CASE WHEN s IS NULL OR o.w > s.w OR (o.w = s.w AND size(o.ids) < size(s.ids))
            THEN o ELSE s END)) AS f
UNWIND CASE f WHEN [] THEN [null] ELSE f END AS e
WITH e, e.n AS x
OPTIONAL MATCH (m)-[r:SUPPLIES|MAKES|PART_OF|USED_BY]->(x)
WHERE NOT e.done AND m.exposure_reach > 0
WITH [c IN [CASE WHEN e.done OR x.exposure_tier = 0 OR x.exposure > 0
                 THEN {n: x, w: e.w, ids: e.ids, done: true} END,
            CASE WHEN m IS NOT NULL
                 THEN {n: m, w: e.w * coalesce(r.confidence, 1.0), ids: [m.id] + e.ids,
                       done: false} END] WHERE c IS NOT NULL] AS candidates
UNWIND candidates AS c
WITH c.n AS n, c.done AS done, collect(c) AS options
WITH collect(reduce(s = null, o IN options |
       CASE WHEN s IS NULL OR o.w > s.w OR (o.w = s.w AND size(o.ids) < size(s.ids))
            THEN o ELSE s END)) AS f
UNWIND CASE f WHEN [] THEN [null] ELSE f END AS e
WITH e, e.n AS x
OPTIONAL MATCH (m)-[r:SUPPLIES|MAKES|PART_OF|USED_BY]->(x)
WHERE NOT e.done AND m.exposure_reach > 0
WITH [c IN [CASE WHEN e.done OR x.exposure_tier = 0 OR x.exposure > 0
                 THEN {n: x, w: e.w, ids: e.ids, done: true} END,
            CASE WHEN m IS NOT NULL
                 THEN {n: m, w: e.w * coalesce(r.confidence, 1.0), ids: [m.id] + e.ids,
                       done: false} END] WHERE c IS NOT NULL] AS candidates
UNWIND candidates AS c
WITH c.n AS n, c.done AS done, collect(c) AS options
WITH collect(reduce(s = null, o IN options |
       CASE WHEN s IS NULL OR o.w > s.w OR (o.w = s.w AND size(o.ids) < size(s.ids))
            THEN o ELSE s END)) AS f
UNWIND CASE f WHEN [] THEN [null] ELSE f END AS e
WITH e, e.n AS x
OPTIONAL MATCH (m)-[r:SUPPLIES|MAKES|PART_OF|USED_BY]->(x)
WHERE NOT e.done AND m.exposure_reach > 0
WITH [c IN [CASE WHEN e.done OR x.exposure_tier = 0 OR x.exposure > 0
                 THEN {n: x, w: e.w, ids: e.ids, done: true} END,
            CASE WHEN m IS NOT NULL
                 THEN {n: m, w: e.w * coalesce(r.confidence, 1.0), ids: [m.id] + e.ids,
                       done: false} END] WHERE c IS NOT NULL] AS candidates
UNWIND candidates AS c
WITH c.n AS n, c.done AS done, collect(c) AS options
WITH collect(reduce(s = null, o IN options |
       CASE WHEN s IS NULL OR o.w > s.w OR (o.w = s.w AND size(o.ids) < size(s.ids))
            THEN o ELSE s END)) AS f
UNWIND f AS e
WITH e
WHERE e.n.id <> $product AND (e.done OR e.n.exposure_tier = 0 OR e.n.exposure > 0)
WITH e.n AS src, collect(e) AS options
WITH src, reduce(s = null, o IN options |
       CASE WHEN s IS NULL OR o.w > s.w OR (o.w = s.w AND size(o.ids) < size(s.ids))
            THEN o ELSE s END) AS chosen
RETURN src.id AS source, src.name AS source_name, size(chosen.ids) - 1 AS hops,
       chosen.w AS strength, chosen.ids AS path
ORDER BY strength DESC, hops ASC, source ASC
LIMIT $limit
