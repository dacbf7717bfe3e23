// Package scenario defines attack scenarios and loads them from YAML technique files
// (scenarios/<tactic>/<technique>.yaml, docs/scenario-format.md) with strict decoding: every
// problem of a load comes back at once, each placed by file, line, column, scenario id and step,
// and checked against ATT&CK and, when given, the loaded rules.
//
// A step is a shell command (run), an argv the container runtime runs without a shell (exec) or
// a wait (sleep), with the exit statuses it must end with. A scenario may shape its victim
// (image, capabilities, privileges, /etc/hosts, read-only root, network), forbid every
// candidate rule it does not expect, or be skipped with a reason.
//
// A directory holding a library.yaml is a scenario library (scenarios/upstream): its files lie
// at [<group>/...]<tactic>/<technique>.yaml, it loads on its own, and a load of a directory
// above it leaves it out.
package scenario
