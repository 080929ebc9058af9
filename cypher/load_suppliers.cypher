// Load supplier nodes: create each :Supplier by id or update the one that exists.
// Idempotent: running a batch twice leaves the graph as running it once. Every property
// is set from the row's map (a null value removes that property), never from the text
// of this statement.
// Parameters:
//   $rows (list): one map per node, {id: string, props: map of property -> value}
// Returns: nothing
UNWIND $rows AS row
MERGE (n:Supplier {id: row.id})
SET n += row.props
