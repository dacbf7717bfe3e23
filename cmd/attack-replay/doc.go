// Command attack-replay does what is not a test run: it validates the rules and scenario files,
// lists and catalogues what they cover, measures rule coverage, compares two runs' reports,
// sets the reports of runs on several Falco versions side by side, and tells whether Falco will
// start on this host (doctor).
// `make test-rules` replays the scenarios against a real Falco.
//
//	attack-replay validate [--rules DIR_OR_FILE ...] [--scenarios DIR]
//	attack-replay list     [--rules DIR_OR_FILE ...] [--scenarios DIR]
//	attack-replay coverage [--rules DIR_OR_FILE ...] [--upstream DIR_OR_FILE ...] [--scenarios DIR]
//	                       [--fail-under PCT] [--require-all-rules] [--format text|markdown]
//	attack-replay catalog  [--rules DIR_OR_FILE ...] [--scenarios DIR] [--write FILE | --check FILE]
//	attack-replay diff     [--markdown FILE|-] [--latency-threshold PCT] [--latency-min DUR] BASE.json HEAD.json
//	attack-replay doctor   [--json] [--timeout DUR]
//	attack-replay matrix   [--markdown FILE|-] [--html FILE] [--json FILE] [--fail-on-diff] [LABEL=]REPORT ...
//	attack-replay help     [command]
//
// Exit status, the same for every command: 0 when all is well; 1 when the files have problems
// (each printed on stderr as path:line:col: ...), the coverage gate failed, head regressed
// against base, the catalog is out of date, a doctor check failed, or (matrix --fail-on-diff) a
// matrix row differs; 2 for a usage error or input that cannot be read or written (files that do
// not load, a report.json that does not decode, missing markers).
package main
