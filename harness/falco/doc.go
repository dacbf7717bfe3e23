// Package falco is a testcontainers module that starts a real Falco with the candidate rules,
// the harness's barrier rule and a rendered config drop-in, proves it captures (a canary
// alert), and feeds its alerts, over gRPC or HTTP, into an alert.Hub. It reports what goes
// wrong in Falco's own terms: rules that do not load (file, line, column, code), drivers that
// do not start (DriverFailure tells memlock, verifier rejection, CO-RE relocation failure and
// missing BTF apart by their log lines, each with its own fix and what this run and host add),
// crashes mid-run (exit code and last log lines, to every waiter),
// and dropped syscall events. Validate runs `falco -V` without starting a driver;
// ReadImageRules copies the image's own falco_rules.yaml out without running Falco at all.
//
// What a real Falco did is recorded in ../../fixtures/falco (FACTS.md's samples); the parsers
// are tested against those files, and the container logic against a stand-in image
// (internal/standin, built by the falcotest package, which tests of other packages use too)
// that replays them.
package falco
