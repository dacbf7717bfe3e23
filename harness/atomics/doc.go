// Package atomics imports Atomic Red Team tests (atomics/T*/T*.yaml of
// github.com/redcanaryco/atomic-red-team, format in its atomic_red_team/spec.yaml)
// as attack-replay scenarios.
//
// Parse reads one atomics file with file:line errors. Convert turns each of
// its tests that runs on Linux with the sh or bash executor into a scenario:
// input arguments replaced by their defaults, dependencies as setup steps
// (check the prerequisite, get it when missing, check again), the command
// as steps, the cleanup command as cleanup, and as expectation "some
// candidate rule tagged with the technique fires". Every test it cannot
// convert is kept with the reason, never dropped. Import does that for a
// file or a directory tree and writes <out>/<tactic>/<technique>.yaml files
// that a re-import rewrites byte for byte, plus IMPORT.md and a library.yaml.
package atomics
