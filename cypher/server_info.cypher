// The server's name, version and edition, for `graphkit neo4j status`.
// Parameters: none
// Returns: name, versions (list), edition
CALL dbms.components() YIELD name, versions, edition
RETURN name, versions, edition
