// Command attack-replay does what is not a test run: it validates the rules and scenario files
// and lists what they cover. `make test-rules` replays the scenarios against a real Falco.
//
//	attack-replay validate [--rules DIR_OR_FILE ...] [--scenarios DIR]
//	attack-replay list     [--rules DIR_OR_FILE ...] [--scenarios DIR]
//
// Exit status: 0 when all is well, 1 when the files have problems (each printed on stderr as
// path:line:col: ...), 2 for a usage error.
package main
