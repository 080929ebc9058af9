// Lint Cypher statements with Neo4j's own parser and semantic analysis
// (@neo4j-cypher/language-support), as tests/test_cypher_lint.py asks.
// stdin: {"schema": {labels, relationshipTypes, propertyKeys}, "statements":
//         [{"name": "...", "text": "...", "parameters": ["rows", ...]}]}
// stdout: [{"name": "...", "severity": "error" | "warning", "message": "...", "line": n}]
// Every statement is checked in Cypher 5 mode, with Neo4j's registry of built-in
// functions and procedures (deprecations included) from the package's own test schema.
'use strict';
const { lintCypherQuery, testData } = require('@neo4j-cypher/language-support');

const SEVERITY = { 1: 'error', 2: 'warning', 3: 'information', 4: 'hint' };

function lint(input) {
  const registry = testData.mockSchema;
  const found = [];
  for (const statement of input.statements) {
    const schema = {
      ...input.schema,
      functions: registry.functions,
      procedures: registry.procedures,
      parameters: Object.fromEntries(statement.parameters.map((p) => [p, null])),
      defaultLanguage: 'CYPHER 5',
    };
    for (const d of lintCypherQuery(statement.text, schema)) {
      found.push({
        name: statement.name,
        severity: SEVERITY[d.severity] || String(d.severity),
        message: d.message,
        line: d.range.start.line + 1,
      });
    }
  }
  return found;
}

let raw = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => { raw += chunk; });
process.stdin.on('end', () => { process.stdout.write(JSON.stringify(lint(JSON.parse(raw)))); });
