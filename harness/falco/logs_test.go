package falco

import (
	"slices"
	"strings"
	"testing"
)

func TestStripLogTimestamp(t *testing.T) {
	for in, want := range map[string]string{
		"Wed Nov 25 20:44:17 2026: Falco version: 0.40.0 (x86_64)": "Falco version: 0.40.0 (x86_64)",
		"Thu Nov  5 01:02:03 2026: Loading rules from:":            "Loading rules from:",
		"2026-11-25T20:44:17+0000: Enabled event sources: syscall": "Enabled event sources: syscall",
		"Error: /v/x.yaml: Invalid":                                "Error: /v/x.yaml: Invalid",
		"   - event drop detected: 0 occurrences":                  "   - event drop detected: 0 occurrences",
	} {
		if got := stripLogTimestamp(in); got != want {
			t.Errorf("stripLogTimestamp(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLogBuffer(t *testing.T) {
	b := newLogBuffer(5)
	// run-0.40.0.stdout: JSON alerts, then Falco's exit statistics.
	b.consume(strings.NewReader(readFixture(t, "logs/run-0.40.0.stdout")))
	got := b.tail(0)
	want := []string{"   DEBUG: 2", "Triggered rules by rule name:", "   Disable recovery features: 6", "   Any rm: 4", "   attack-replay barrier: 2"}
	if !slices.Equal(got, want) {
		t.Errorf("tail = %q, want %q (JSON alert lines skipped, the last 5 kept)", got, want)
	}
	if got := b.tail(2); !slices.Equal(got, want[3:]) {
		t.Errorf("tail(2) = %q", got)
	}
}

func TestDropReports(t *testing.T) {
	b := newLogBuffer(100)
	b.consume(strings.NewReader(readFixture(t, "logs/start-and-stop-0.40.0.stderr")))
	if d := b.dropLog(); !d.hasSummary || d.summary != 0 || d.reports != 0 {
		t.Errorf("clean run: %+v, want a summary of 0 occurrences", d)
	}
	// The log action's line (event_drops.cpp: rule + ". N system calls
	// dropped in last second.") and an exit summary with drops.
	b.add("Wed Nov 25 20:44:20 2026: Falco internal: syscall event drop. 177560 system calls dropped in last second.")
	b.add("Wed Nov 25 20:44:21 2026: Falco internal: syscall event drop. 40 system calls dropped in last second.")
	b.add("Syscall event drop monitoring:")
	b.add("   - event drop detected: 3 occurrences")
	b.add("   - num times actions taken: 2")
	d := b.dropLog()
	if d.reports != 2 || d.dropped != 177600 || d.summary != 3 || !d.hasSummary {
		t.Errorf("drops = %+v, want 2 reports of 177600 events and a summary of 3", d)
	}
}
