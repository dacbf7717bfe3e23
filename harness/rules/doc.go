// Package rules indexes Falco rules files: which rules, macros and lists exist after every
// append and override, with their priority, tags, enabled state, position and a content hash.
// It reads files in Falco's load order and reports every problem with file:line:col, but it is
// not a Falco condition parser: a condition that does not compile is found only by Falco.
package rules
