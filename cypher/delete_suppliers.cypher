// Delete supplier nodes that a changed bundle no longer has, with their relationships.
// Idempotent: ids already gone match nothing.
// Parameters:
//   $ids (list): ids of the :Supplier nodes to delete
// Returns: nothing
UNWIND $ids AS id
MATCH (n:Supplier {id: id})
DETACH DELETE n
