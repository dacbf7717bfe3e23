// Package falcotest builds stand-in Falco images for tests of code that starts Falco through
// harness/falco, where no Falco image exists (in the spirit of net/http/httptest: everything
// real but Falco). The stand-in (../internal/standin) is a fake /usr/bin/falco in a scratch
// image: it reads the rendered config drop-in and the -r rules files, serves Falco's gRPC
// outputs and version services or posts to http_output, answers the readiness canary (a
// `falco --version` exec carrying AR_BARRIER in its own container), replays recorded
// `falco -V` verdicts and start-up failures (fixtures/falco), and stops on SIGTERM with
// Falco's exit summary.
//
// What it cannot do: see execs in other containers. A barrier marker exec'd in a victim is
// never answered, which makes it the way to test barrier timeouts end to end.
//
// BuildStandin compiles the stand-in with the go command of the test's toolchain and builds
// the image in the Docker engine; Remove deletes it; Exit makes a running stand-in exit with
// a given code, as Falco crashing mid-run. ImageRules is the image's small upstream-shaped
// /etc/falco/falco_rules.yaml.
package falcotest
