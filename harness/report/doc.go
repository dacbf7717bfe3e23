// Package report turns the verdicts of a run into the files a detection engineer reads: a
// versioned report.json (the full record, which Load reads back), a report.md short enough for a
// pull-request comment, a self-contained report.html with a sortable, filterable table, and an
// ATT&CK Navigator layer colouring each technique by its result.
//
// It also compares two reports (Diff, the rule-PR gate: newly failing scenarios, new false
// positives, new errors, latency regressions, changed rules), measures how well the scenarios
// cover the candidate rules and the techniques they claim (Coverage, with fail-under and
// require-all-rules gates), and sets the reports of runs on several Falco versions side by side
// (BuildMatrix: one row per scenario, one cell per run, the rows where the runs disagree
// flagged; matrix.md, a self-contained matrix.html and matrix.json).
//
// The JSON schema is the package's own types, not the verdict types: verdicts can grow without
// changing what older reports mean, and Schema names the version a reader expects.
package report
