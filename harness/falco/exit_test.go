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
		hint    string
		rules   bool
	}{
		{"memlock", lines("logs/start-fails-memlock-0.40.0.stderr"), "unable to configure the libpman state.", HintMemlock, false},
		{"missing rules file", lines("validate/d2.err"), "Could not open file /v/nope.yaml for reading", "", false},
		{"bad config value", lines("validate/d3.err"), "Error reading config file (/etc/falco/falco.yaml): engine.kind 'bogus' is not a valid kind.", "", false},
		{"invalid rules", lines("logs/start-fails-invalid-rules-0.43.1.stderr"), "", "", true},
		// fixtures/falco/FACTS.md quotes the CO-RE failure of 0.40 on kernels >= 6.15; no
		// full log of it was recorded, so its line is added to the driver
		// failure that follows it.
		{"CO-RE relocation", append([]string{"Wed Nov 25 20:07:23 2026: [libs]: libbpf: prog 'x': failed to resolve CO-RE relocation <byte_off> [1] struct kernfs_node.parent"},
			lines("logs/start-fails-memlock-0.40.0.stderr")...), "unable to configure the libpman state.", HintCORE, false},
		{"clean stop", lines("logs/start-and-stop-0.40.0.stderr"), "", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := classifyExit(PhaseStart, 1, tc.lines, nil)
			if e.Message != tc.message || e.Hint != tc.hint || (e.Rules != nil) != tc.rules {
				t.Errorf("got message %q, hint %q, rules %v; want %q, %q, %v", e.Message, e.Hint, e.Rules != nil, tc.message, tc.hint, tc.rules)
			}
			if e.ExitCode != 1 || e.Phase != PhaseStart || len(e.LogTail) == 0 || len(e.LogTail) > exitErrorTailLines {
				t.Errorf("exit code %d, phase %q, %d tail lines", e.ExitCode, e.Phase, len(e.LogTail))
			}
			msg := e.Error()
			if !strings.HasPrefix(msg, "falco exited with code 1 during start") || (tc.hint != "" && !strings.Contains(msg, "\nhint: "+tc.hint)) {
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
	e := classifyExit(PhaseRun, 134, lines, nil)
	if len(e.LogTail) != exitErrorTailLines || e.LogTail[len(e.LogTail)-1] != "the last one" {
		t.Errorf("tail = %q", e.LogTail)
	}
	if !strings.Contains(e.Error(), "falco exited with code 134 during run\nlast log lines:\n") || !strings.HasSuffix(e.Error(), "  the last one") {
		t.Errorf("message:\n%s", e.Error())
	}
}
