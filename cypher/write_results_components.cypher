// Write propagation results back onto :Component nodes as properties
// (exposure_reach, exposure_share, exposure_path, exposure_tier, exposure_sources).
// Idempotent: it sets the same values again. Unknown ids match nothing.
// Parameters:
//   $rows (list): one map per node, {id: string, props: map of exposure_* -> value}
// Returns: nothing
UNWIND $rows AS row
MATCH (n:Component {id: row.id})
SET n += row.props
