package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/attack-replay/attack-replay/harness/doctor"
)

// TestDoctor runs the command against the real engine and this machine, with FALCO_IMAGE
// naming an image no engine has: that check fails with its fix, and the exit status follows
// the report (1 when a check fails), whatever else this host answers.
func TestDoctor(t *testing.T) {
	const absent = "attack-replay/no-such-falco:doctor-test"
	t.Setenv("FALCO_IMAGE", absent)
	t.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	code, stdout, stderr := runCLI(t, "", "doctor", "--json")
	var r doctor.Report
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("stdout is not the JSON report: %v\n%s\nstderr: %s", err, stdout, stderr)
	}
	if stderr != "" {
		t.Errorf("stderr %q, want nothing besides the report", stderr)
	}
	if r.Schema != doctor.Schema || r.FalcoImage != absent || r.ToolsImage != "attack-replay/victim:tools" || len(r.Checks) != 11 {
		t.Fatalf("report %+v", r)
	}
	var falcoImage doctor.Check
	for _, c := range r.Checks {
		if c.ID == doctor.CheckFalcoImage {
			falcoImage = c
		}
	}
	if falcoImage.Status == doctor.StatusSkip {
		t.Skipf("no Docker engine: %+v", r.Checks[1])
	}
	if falcoImage.Status != doctor.StatusFail || !strings.Contains(falcoImage.Detail, absent) || !strings.Contains(falcoImage.Fix, "FALCO_IMAGE") {
		t.Errorf("falco-image = %+v", falcoImage)
	}
	if r.OK || code != exitProblems {
		t.Errorf("exit %d, report ok %v; want 1 with a failed check", code, r.OK)
	}

	code, table, _ := runCLI(t, "", "doctor")
	if code != exitProblems || !strings.HasPrefix(table, "CHECK         STATUS  DETAIL") || !strings.Contains(table, "\nfalco-image   fail    ") {
		t.Errorf("table (exit %d):\n%s", code, table)
	}
}

func TestDoctorUsage(t *testing.T) {
	for _, args := range [][]string{{"doctor", "extra"}, {"doctor", "--timeout", "0s"}, {"doctor", "--bogus"}} {
		code, stdout, stderr := runCLI(t, "", args...)
		if code != exitUsage || stdout != "" || stderr == "" || strings.Contains(stderr, "--rules") {
			t.Errorf("%q: exit %d stdout %q stderr %q", args, code, stdout, stderr)
		}
	}
}
