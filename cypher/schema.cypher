// Schema: uniqueness of node ids per label, and indexes for the analyst queries.
// Runs first on every load; each statement is idempotent (IF NOT EXISTS).
// Statements are separated by semicolons; graphkit runs them one by one.
// Portable: the same syntax runs on Neo4j 5 and on ArcadeDB's Bolt/Cypher server.
// Parameters: none
// Returns: nothing
CREATE CONSTRAINT graphkit_supplier_id IF NOT EXISTS FOR (n:Supplier) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT graphkit_component_id IF NOT EXISTS FOR (n:Component) REQUIRE n.id IS UNIQUE;
CREATE INDEX graphkit_supplier_province IF NOT EXISTS FOR (n:Supplier) ON (n.province);
CREATE INDEX graphkit_supplier_sector IF NOT EXISTS FOR (n:Supplier) ON (n.sector);
CREATE INDEX graphkit_supplier_exposure IF NOT EXISTS FOR (n:Supplier) ON (n.exposure);
CREATE INDEX graphkit_supplier_exposure_reach IF NOT EXISTS FOR (n:Supplier) ON (n.exposure_reach);
CREATE INDEX graphkit_component_sector IF NOT EXISTS FOR (n:Component) ON (n.sector);
CREATE INDEX graphkit_component_exposure IF NOT EXISTS FOR (n:Component) ON (n.exposure);
CREATE INDEX graphkit_component_exposure_reach IF NOT EXISTS FOR (n:Component) ON (n.exposure_reach);
