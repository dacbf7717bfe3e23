package falco

import (
	"fmt"
	"strings"
)

// Phases in which Falco can exit.
const (
	PhaseStart = "start" // before the readiness canary arrived
	PhaseRun   = "run"   // after Run returned
)

// Hints given with known start failures (fixtures/falco/FACTS.md "Failures at start").
const (
	// HintMemlock: "An error occurred in an event source" + "unable to
	// configure the libpman state" (samples/logs/start-fails-memlock-0.40.0):
	// the memlock limit could not be raised, which needs CAP_SYS_RESOURCE.
	HintMemlock = "the modern_ebpf probe could not start: Falco could not raise the memlock limit, which needs CAP_SYS_RESOURCE. " +
		"Run Falco with --privileged (falco.WithPrivileges(falco.PrivilegesPrivileged)) on a host that allows it, as CI runners do; " +
		"the official Falco images do not start modern_ebpf on a host that refuses it"
	// HintCORE: Falco 0.40 (libs 0.20) fails to load its probe on kernels
	// ≥ 6.15 ("failed to resolve CO-RE relocation … kernfs_node.parent").
	HintCORE = "this Falco's modern eBPF probe does not load on this kernel (CO-RE relocation failure; Falco 0.40 cannot run on kernels 6.15 and newer): use Falco 0.41 or newer (FALCO_IMAGE)"
)

// ExitError is Falco's container exiting on its own: during start (Run
// returns it at once instead of timing out) or mid-run (every waiting
// consumer gets it from the hub).
type ExitError struct {
	Phase    string // PhaseStart or PhaseRun
	ExitCode int
	// Message is Falco's own "Error: …" line without the prefix, when it
	// printed one.
	Message string
	Hint    string   // what to do, for failures the harness recognises
	LogTail []string // Falco's last log lines
	// Rules is set when the rules failed to load; errors.As reaches it.
	Rules *RulesError
}

func (e *ExitError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "falco exited with code %d during %s", e.ExitCode, e.Phase)
	switch {
	case e.Rules != nil:
		b.WriteString(": " + e.Rules.Error())
	case e.Message != "":
		b.WriteString(": " + e.Message)
	}
	if e.Hint != "" {
		b.WriteString("\nhint: " + e.Hint)
	}
	if len(e.LogTail) > 0 && e.Rules == nil {
		b.WriteString("\nlast log lines:\n  " + strings.Join(e.LogTail, "\n  "))
	}
	return b.String()
}

// Unwrap gives errors.As access to the rules error.
func (e *ExitError) Unwrap() error {
	if e.Rules == nil {
		return nil
	}
	return e.Rules
}

// exitErrorTailLines is how many log lines an ExitError carries.
const exitErrorTailLines = 20

// classifyExit explains why Falco exited from its log lines: a rules
// error block, a known driver failure, or its last "Error:" line.
// hostPath maps container paths back to the user's files.
func classifyExit(phase string, code int, lines []string, hostPath func(string) string) *ExitError {
	e := &ExitError{Phase: phase, ExitCode: code}
	if len(lines) > exitErrorTailLines {
		e.LogTail = append([]string(nil), lines[len(lines)-exitErrorTailLines:]...)
	} else {
		e.LogTail = append([]string(nil), lines...)
	}
	results := ParseLoadText(strings.Join(lines, "\n"))
	if hostPath != nil {
		mapFiles(results, hostPath)
	}
	dropEchoes(results)
	e.Rules = rulesError(results)

	var coreFailure, sourceFailure bool
	for _, raw := range lines {
		line := stripLogTimestamp(raw)
		switch {
		case strings.Contains(line, "failed to resolve CO-RE relocation"):
			coreFailure = true
		case strings.Contains(line, "An error occurred in an event source"),
			strings.Contains(line, "unable to configure the libpman state"):
			sourceFailure = true
		}
		if msg, ok := strings.CutPrefix(line, "Error: "); ok && !loadHeaderRE.MatchString(line) {
			e.Message = msg
		}
	}
	switch {
	case coreFailure:
		e.Hint = HintCORE
	case sourceFailure:
		e.Hint = HintMemlock
	}
	return e
}
