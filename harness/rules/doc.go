// Package rules indexes Falco rules files: which rules, macros and lists exist after every
// append and override, with their priority, tags, enabled state, position and a content hash.
// LoadPaths reads files in Falco's load order and reports every problem with file:line:col.
//
// Index.Check then finds what Falco refuses only when it compiles the loaded rules: conditions
// that do not parse (harness/condition's parser, libs' grammar), names that are neither macros
// nor lists (resolved as Falco does, after every file), fields the syscall source does not have,
// output tokens that name no field. Each problem points at the byte of the condition or output
// text in its YAML file, whatever the scalar's style and through appends in other files.
//
// Check is a step of its own, not part of LoadPaths, because its callers judge its findings
// differently: validate and the session's load stop on them, but the session treats a macro
// that only the Falco image's (unread) rules may define as a warning, and a finding in the
// image's own rules as Falco's to judge; commands that only read the index (coverage, catalog,
// diff) need not fail on a condition. It also keeps the loader free of compiler concerns.
package rules
