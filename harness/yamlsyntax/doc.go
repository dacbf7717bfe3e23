// Package yamlsyntax places the syntax errors of gopkg.in/yaml.v3 on the line a user must fix.
//
// yaml.v3 writes "yaml: line N: problem" with N 1-based for scanner errors but 0-based for
// parser errors, one line early (go-yaml/yaml#205), and for a parser error raised inside a
// block or flow collection N is where that collection starts, not where the problem is. The
// rules and scenario loaders share this package so both report the same line.
package yamlsyntax
