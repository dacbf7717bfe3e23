// Package techniques is the main job of attack-replay: a Ginkgo suite with one
// spec per scenario, run against a real Falco by `make test-rules`.
//
// The suite itself lives in techniques_suite_test.go behind the "rules" build
// tag, so `go test ./...` never needs a Falco image. The files here plan the
// specs from the scenario data (text, labels, code locations, timeouts) and
// summarise the verdicts; they are tested without Falco, and the generated
// suite is checked with Ginkgo's dry run.
package techniques
