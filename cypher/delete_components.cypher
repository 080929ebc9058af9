// Delete component nodes that a changed bundle no longer has, with their relationships.
// Idempotent: ids already gone match nothing.
// Parameters:
//   $ids (list): ids of the :Component nodes to delete
// Returns: nothing
UNWIND $ids AS id
MATCH (n:Component {id: id})
DETACH DELETE n
