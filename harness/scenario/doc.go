// Package scenario defines attack scenarios and loads them from YAML technique files
// (scenarios/<tactic>/<technique>.yaml, docs/scenario-format.md) with strict decoding: every
// problem of a load comes back at once, each placed by file, line, column, scenario id and step,
// and checked against ATT&CK and, when given, the candidate rules.
package scenario
