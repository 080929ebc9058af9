// Delete SUPPLIES relationships that a changed bundle no longer has.
// Idempotent: relationships already gone match nothing.
// Parameters:
//   $rows (list): one map per edge, {source: id, target: id}
// Returns: nothing
UNWIND $rows AS row
MATCH (:Supplier {id: row.source})-[r:SUPPLIES]->(:Supplier {id: row.target})
DELETE r
