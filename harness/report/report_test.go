package report

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/attack-replay/attack-replay/harness/alert"
	"github.com/attack-replay/attack-replay/harness/verdict"
)

func TestBuildGroupsScenariosPerTechnique(t *testing.T) {
	rep := Build(recordedRun(t))

	if rep.Schema != Schema {
		t.Errorf("schema %q, want %q", rep.Schema, Schema)
	}
	want := []struct {
		id, name, tactic string
		counts           Counts
		p50, p95         time.Duration
		scenarios        []string
	}{
		{"T1490", "Inhibit System Recovery", "impact", Counts{Scenarios: 5, Pass: 1, Fail: 3, Error: 1, Flaky: 1},
			37 * time.Millisecond, 50 * time.Millisecond,
			[]string{"root-systemctl-rescue", "root-rm-rf", "systemctl-disable-recovery-mode", "benign-rm-build-cache", "mkfs-nodiscard"}},
		{"T1552.001", "Credentials In Files", "credential-access", Counts{Scenarios: 2, Pass: 1, Inconclusive: 1},
			312 * time.Millisecond, 312 * time.Millisecond, []string{"find-private-keys", "grep-passwords"}},
		{"T1555", "Credentials from Password Stores", "credential-access", Counts{Scenarios: 1, Pass: 1},
			122 * time.Millisecond, 122 * time.Millisecond, []string{"read-shadow"}},
	}
	if len(rep.Techniques) != len(want) {
		t.Fatalf("got %d techniques, want %d", len(rep.Techniques), len(want))
	}
	for i, w := range want {
		got := rep.Techniques[i]
		if got.ID != w.id || got.Name != w.name || got.Tactic != w.tactic {
			t.Errorf("technique %d: got %s %q %s, want %s %q %s", i, got.ID, got.Name, got.Tactic, w.id, w.name, w.tactic)
		}
		if got.Counts != w.counts {
			t.Errorf("%s counts %+v, want %+v", w.id, got.Counts, w.counts)
		}
		if got.Latency.P50 != w.p50 || got.Latency.P95 != w.p95 {
			t.Errorf("%s latency p50 %v p95 %v, want %v %v", w.id, got.Latency.P50, got.Latency.P95, w.p50, w.p95)
		}
		var ids []string
		for _, s := range got.Scenarios {
			ids = append(ids, s.ID)
		}
		if strings.Join(ids, " ") != strings.Join(w.scenarios, " ") {
			t.Errorf("%s scenarios %v, want %v (file order)", w.id, ids, w.scenarios)
		}
	}

	wantSummary := Summary{Techniques: 3, Counts: Counts{Scenarios: 8, Pass: 3, Fail: 3, Error: 1, Inconclusive: 1, Flaky: 1}, Drops: 12}
	if rep.Summary != wantSummary {
		t.Errorf("summary %+v, want %+v (drops in an attempt make the run untrustworthy)", rep.Summary, wantSummary)
	}

	flaky := rep.Techniques[0].Scenarios[1]
	if flaky.Status() != "flaky" || flaky.Outcome != verdict.Fail || len(flaky.Attempts) != 2 {
		t.Errorf("root-rm-rf: status %s outcome %s, %d attempts; want flaky fail over 2 attempts", flaky.Status(), flaky.Outcome, len(flaky.Attempts))
	}
	if d, _ := flaky.Decisive(); d.Attempt != 2 || flaky.Reason != d.Reason {
		t.Errorf("root-rm-rf decisive attempt %d reason %q, want attempt 2 and its reason", d.Attempt, flaky.Reason)
	}
	near := rep.Techniques[0].Scenarios[2].Attempts[0].NearMisses
	if len(near) != 1 || near[0].Field != "user.name" || near[0].Got != alert.NA {
		t.Errorf("near misses of systemctl-disable-recovery-mode: %+v, want user.name got <NA>", near)
	}
	rescue := rep.Techniques[0].Scenarios[0].Attempts[0]
	if len(rescue.Alerts) != 2 || rescue.Alerts[1].Phase != alert.PhaseBarrier || rescue.Judged != 2 {
		t.Errorf("root-systemctl-rescue alerts %+v judged %d, want the steps alert then the barrier", rescue.Alerts, rescue.Judged)
	}
	if l := rescue.Latencies; len(l) != 1 || l[0].Detection != 35*time.Millisecond || l[0].Delivery != 2*time.Millisecond {
		t.Errorf("root-systemctl-rescue latencies %+v, want detection 35ms delivery 2ms", l)
	}
}

func TestBuildKeepsResultsOfUnknownScenarios(t *testing.T) {
	run := recordedRun(t)
	run.Scenarios = nil // e.g. the caller lost them: the results must still be reported
	run.Rules = nil
	rep := Build(run)
	if rep.Summary.Scenarios != 8 || len(rep.Techniques) != 3 {
		t.Fatalf("got %d scenarios in %d techniques, want 8 in 3", rep.Summary.Scenarios, len(rep.Techniques))
	}
	if s := rep.Techniques[0].Scenarios[0]; s.File != "scenarios/impact/T1490.yaml" || s.Line != 5 {
		t.Errorf("scenario location from the verdict: %s:%d", s.File, s.Line)
	}
	if name := rep.Techniques[0].Name; name != "Inhibit System Recovery" {
		t.Errorf("technique name %q, want it from the ATT&CK table", name)
	}
	if rep.Coverage != nil {
		t.Errorf("coverage without rules or scenarios: %+v", rep.Coverage)
	}
}

func TestBuildTrustworthyWithoutDrops(t *testing.T) {
	run := recordedRun(t)
	run.Results = run.Results[:7] // drop grep-passwords, the only attempt with drops
	rep := Build(run)
	if !rep.Summary.Trustworthy || rep.Summary.Drops != 0 {
		t.Errorf("trustworthy %v drops %d, want true 0", rep.Summary.Trustworthy, rep.Summary.Drops)
	}
	run.Meta.Drops = 3 // drops reported for the whole run count too
	if rep := Build(run); rep.Summary.Trustworthy || rep.Summary.Drops != 3 {
		t.Errorf("with run-wide drops: trustworthy %v drops %d, want false 3", rep.Summary.Trustworthy, rep.Summary.Drops)
	}
}

func TestJSONRoundTrip(t *testing.T) {
	rep := Build(recordedRun(t))
	var first bytes.Buffer
	if err := rep.WriteJSON(&first); err != nil {
		t.Fatal(err)
	}
	golden(t, JSONFile, first.Bytes())

	back, err := Read(bytes.NewReader(first.Bytes()), "report.json")
	if err != nil {
		t.Fatal(err)
	}
	var second bytes.Buffer
	if err := back.WriteJSON(&second); err != nil {
		t.Fatal(err)
	}
	if first.String() != second.String() {
		t.Errorf("report changed in a JSON round trip:\n%s\nvs\n%s", first.String(), second.String())
	}
	// Spot checks that the values, not just the bytes, came back.
	s := back.Techniques[0].Scenarios[2]
	a := s.Attempts[0]
	if a.Alerts[0].Priority.String() != "Critical" || a.Alerts[0].Fields["user.name"] != alert.NA ||
		a.Alerts[0].Time != time.Date(2026, 11, 25, 20, 44, 20, 235674052, time.UTC) {
		t.Errorf("alert after round trip: %+v", a.Alerts[0])
	}
	if m := a.Expectations[0].Matcher; m.Priority == nil || m.Priority.String() != "Critical" || m.Fields[0].Kind != "equals" {
		t.Errorf("matcher after round trip: %+v", m)
	}
	if back.Meta.Start != rep.Meta.Start || back.Coverage == nil || back.Coverage.Percent != 50 {
		t.Errorf("meta or coverage lost: %+v %+v", back.Meta, back.Coverage)
	}
}

func TestLoadCommittedReport(t *testing.T) {
	// The committed report.json is the v1 schema as released: Load must keep reading it.
	rep, err := Load(filepath.Join(goldenDir, JSONFile))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Summary.Scenarios != 8 || rep.Techniques[0].Scenarios[3].ID != "benign-rm-build-cache" || !rep.Techniques[0].Scenarios[3].Benign {
		t.Errorf("committed report read wrong: %+v", rep.Summary)
	}
}

func TestReadRejectsOtherSchemasAndBrokenJSON(t *testing.T) {
	cases := []struct {
		name, body string
		want       []string
	}{
		{"other schema", `{"schema":"attack-replay/report/v0"}`, []string{`schema "attack-replay/report/v0"`, `want "attack-replay/report/v1"`, "make test-rules"}},
		{"no schema", `{"techniques":[]}`, []string{`schema ""`}},
		{"broken", "{\"schema\":\n  \"attack-replay/report/v1\",,}", []string{"line 2, column", "base.json"}},
		{"wrong type", "{\"schema\":\"attack-replay/report/v1\",\n\"summary\":{\"pass\":\"three\"}}", []string{"line 2, column", ".pass of type int"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Read(strings.NewReader(c.body), "base.json")
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.json")); err == nil || !strings.Contains(err.Error(), "missing.json") {
		t.Errorf("missing file: %v", err)
	}
}

func TestWriteDirWritesEveryReport(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "reports")
	rep := Build(recordedRun(t))
	if err := WriteDir(dir, rep); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if got, want := strings.Join(names, " "), "navigator-layer.json report.html report.json report.md"; got != want {
		t.Errorf("files %q, want %q (no temporary files left)", got, want)
	}
	md, _ := os.ReadFile(filepath.Join(dir, MarkdownFile))
	if string(md) != rep.Markdown() {
		t.Error("report.md is not the report's Markdown")
	}
}
