package falco

import (
	"strings"
	"testing"
)

func TestClassifyExit(t *testing.T) {
	lines := func(fixture string) []string { return strings.Split(readFixture(t, fixture), "\n") }
	for _, tc := range []struct {
		name    string
		lines   []string
		message string
		cause   DriverCause
		rules   bool
	}{
		{"memlock", lines("logs/start-fails-memlock-0.40.0.stderr"), "unable to configure the libpman state.", DriverMemlock, false},
		{"verifier", lines("logs/start-fails-verifier-0.43.1.reconstructed.stderr"), "Initialization issues during scap_init", DriverVerifier, false},
		{"missing rules file", lines("validate/d2.err"), "Could not open file /v/nope.yaml for reading", "", false},
		{"bad config value", lines("validate/d3.err"), "Error reading config file (/etc/falco/falco.yaml): engine.kind 'bogus' is not a valid kind.", "", false},
		{"invalid rules", lines("logs/start-fails-invalid-rules-0.43.1.stderr"), "", "", true},
		// FACTS.md quotes the CO-RE failure of 0.40 on kernels >= 6.15; no
		// full log of it was recorded, so its line is added to the driver
		// failure that follows it.
		{"CO-RE relocation", append([]string{"Wed Nov 25 20:07:23 2026: [libs]: libbpf: prog 'x': failed to resolve CO-RE relocation <byte_off> [1] struct kernfs_node.parent"},
			lines("logs/start-fails-memlock-0.40.0.stderr")...), "unable to configure the libpman state.", DriverCORE, false},
		{"clean stop", lines("logs/start-and-stop-0.40.0.stderr"), "", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := classifyExit(PhaseStart, 1, tc.lines, nil, runFacts{})
			var cause DriverCause
			if e.Driver != nil {
				cause = e.Driver.Cause
			}
			if e.Message != tc.message || cause != tc.cause || (e.Rules != nil) != tc.rules {
				t.Errorf("got message %q, cause %q, rules %v; want %q, %q, %v", e.Message, cause, e.Rules != nil, tc.message, tc.cause, tc.rules)
			}
			if (tc.cause == "") != (e.Hint == "" && e.Fix == "") || (e.Driver != nil && (e.Hint != e.Driver.Explanation() || e.Fix != tc.cause.Fix())) {
				t.Errorf("hint %q, fix %q for cause %q", e.Hint, e.Fix, tc.cause)
			}
			if e.ExitCode != 1 || e.Phase != PhaseStart || len(e.LogTail) == 0 || len(e.LogTail) > exitErrorTailLines {
				t.Errorf("exit code %d, phase %q, %d tail lines", e.ExitCode, e.Phase, len(e.LogTail))
			}
			msg := e.Error()
			if !strings.HasPrefix(msg, "falco exited with code 1 during start") || (tc.cause != "" && !strings.Contains(msg, "\nhint: "+e.Hint+"\nfix: "+e.Fix+"\n")) {
				t.Errorf("message:\n%s", msg)
			}
		})
	}
}

func TestExitErrorKeepsLastLines(t *testing.T) {
	var lines []string
	for i := range 50 {
		lines = append(lines, "line "+string(rune('a'+i%26)))
	}
	lines = append(lines, "the last one")
	e := classifyExit(PhaseRun, 134, lines, nil, runFacts{})
	if len(e.LogTail) != exitErrorTailLines || e.LogTail[len(e.LogTail)-1] != "the last one" {
		t.Errorf("tail = %q", e.LogTail)
	}
	if !strings.Contains(e.Error(), "falco exited with code 134 during run\nlast log lines:\n") || !strings.HasSuffix(e.Error(), "  the last one") {
		t.Errorf("message:\n%s", e.Error())
	}
}

// The whole message of a verifier rejection, as the session shows it: Falco's error, what
// happened, the fix, what this run and host add, then Falco's lines.
func TestExitErrorVerifierMessage(t *testing.T) {
	lines := append(startOf043(t), asLibsLog(fixtureLines(t, "logs/start-fails-verifier-0.43.1.reconstructed.stderr"))...)
	e := classifyExit(PhaseStart, 1, lines, nil, runFacts{version: Version{Minor: 43, Patch: 1}, host: fakeHost{kernel: "6.18.44-fc-v595", btf: true}})
	want := "falco exited with code 1 during start: Initialization issues during scap_init\n" +
		`hint: the kernel's BPF verifier rejected the modern eBPF probe's program "signal_deliver" (R9 invalid mem access 'scalar', errno 13): ` +
		"this Falco's probe does not load on this kernel, whatever the privileges and limits\n" +
		"fix: " + DriverVerifier.Fix() + "\n" +
		"seen: Falco 0.43.1 on kernel 6.18.44-fc-v595\n" +
		"last log lines:\n"
	if msg := e.Error(); !strings.HasPrefix(msg, want) || strings.Contains(msg, "memlock") {
		t.Errorf("message:\n%s\nwant it to start:\n%s", msg, want)
	}
}
