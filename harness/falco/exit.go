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

// ExitError is Falco's container exiting on its own: during start (Run
// returns it at once instead of timing out) or mid-run (every waiting
// consumer gets it from the hub).
type ExitError struct {
	Phase    string // PhaseStart or PhaseRun
	ExitCode int
	// Message is Falco's own "Error: …" line without the prefix, when it
	// printed one.
	Message string
	// Driver is why the driver did not start, when Falco's log shows that it did not.
	Driver *DriverFailure
	Hint   string // what went wrong, for failures the harness recognises
	Fix    string // what to do about it
	// Facts are what this run and this host add to the hint ("Falco 0.43.1 on kernel
	// 6.18.44", "/sys/kernel/btf/vmlinux is absent on this host").
	Facts   []string
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
	if e.Fix != "" {
		b.WriteString("\nfix: " + e.Fix)
	}
	for _, f := range e.Facts {
		b.WriteString("\nseen: " + f)
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
// error block, a driver that did not start, or its last "Error:" line.
// hostPath maps container paths back to the user's files; run adds what the
// harness knows about this Falco and its host to a driver failure's hint.
func classifyExit(phase string, code int, lines []string, hostPath func(string) string, run runFacts) *ExitError {
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

	for _, raw := range lines {
		line := stripLogTimestamp(raw)
		if msg, ok := strings.CutPrefix(line, "Error: "); ok && !loadHeaderRE.MatchString(line) {
			e.Message = msg
		}
	}
	if e.Rules == nil {
		if f, ok := DiagnoseDriver(lines); ok {
			e.Driver = &f
			e.Hint = f.Explanation()
			e.Fix = f.Cause.Fix()
			e.Facts = run.about(f, lines)
		}
	}
	return e
}
