// Package session wires one replay run together: it reads the run's configuration from the
// environment, checks that the images exist (Falco's and every victim image the selected
// scenarios need), loads the rules (the Falco image's own falco_rules.yaml first, when asked)
// and the scenarios checked against them, starts one Falco with the candidate rules (and the
// rules scenarios name beside them), replays the selected scenarios with the runner, hands each
// scenario's result to whoever waits for it (the Ginkgo suite's specs), and writes the reports
// when the run is over.
package session
