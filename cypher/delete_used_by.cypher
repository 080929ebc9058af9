// Delete USED_BY relationships that a changed bundle no longer has.
// Idempotent: relationships already gone match nothing.
// Parameters:
//   $rows (list): one map per edge, {source: id, target: id}
// Returns: nothing
UNWIND $rows AS row
MATCH (:Component {id: row.source})-[r:USED_BY]->(:Supplier {id: row.target})
DELETE r
