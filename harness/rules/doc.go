// Package rules indexes Falco rules files: which rules, macros and lists exist, with their
// priority, tags and enabled state. It is not a Falco condition parser.
package rules
