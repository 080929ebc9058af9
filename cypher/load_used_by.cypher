// Load USED_BY relationships (:Component)-[:USED_BY]->(:Supplier), in the direction goods flow.
// Both ends are matched by their constrained id (nodes are loaded first); the
// relationship is merged, so a batch run twice creates nothing new. Properties come
// from the row's map (a null value removes that property).
// Parameters:
//   $rows (list): one map per edge, {source: id, target: id, props: map}
// Returns: nothing
UNWIND $rows AS row
MATCH (s:Component {id: row.source})
MATCH (t:Supplier {id: row.target})
MERGE (s)-[r:USED_BY]->(t)
SET r += row.props
