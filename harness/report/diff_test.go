package report

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/attack-replay/attack-replay/harness/verdict"
)

// sc is a scenario result for diff tests: "pass", "fail", "error",
// "inconclusive", "flaky" (a flaky fail); benign and p50 optional.
type sc struct {
	id, status string
	benign     bool
	p50        time.Duration
}

func diffReport(rules []Rule, scenarios ...sc) *Report {
	t := Technique{ID: "T1490", Tactic: "impact"}
	for _, s := range scenarios {
		o, flaky := verdict.Outcome(s.status), false
		if s.status == "flaky" {
			o, flaky = verdict.Fail, true
		}
		out := Scenario{ID: s.id, Outcome: o, Flaky: flaky, Benign: s.benign, File: "scenarios/impact/T1490.yaml", Line: 3, Reason: "because " + s.status}
		if s.p50 > 0 {
			out.Latency = Latency{Count: 3, P50: s.p50, P95: s.p50}
		}
		t.Scenarios = append(t.Scenarios, out)
	}
	return &Report{Schema: Schema, Summary: Summary{Trustworthy: true}, Techniques: []Technique{t}, Rules: rules}
}

func TestDiffClassifiesEveryChange(t *testing.T) {
	rule := func(name, hash string) Rule {
		return Rule{Name: name, File: "rules/impact.yaml", Hash: hash, Candidate: true}
	}
	base := diffReport(
		[]Rule{rule("Kept", "h1"), rule("Edited", "h2"), rule("Dropped", "h3"), {Name: "Upstream", Hash: "u1"}},
		sc{id: "still-pass", status: "pass", p50: 40 * time.Millisecond},
		sc{id: "breaks", status: "pass"},
		sc{id: "benign-breaks", status: "pass", benign: true},
		sc{id: "benign-still-fails", status: "fail", benign: true},
		sc{id: "errors-now", status: "fail"},
		sc{id: "heals", status: "fail"},
		sc{id: "drops-now", status: "pass"},
		sc{id: "flaky-now", status: "fail"},
		sc{id: "slower", status: "pass", p50: 100 * time.Millisecond},
		sc{id: "slower-but-small", status: "pass", p50: 10 * time.Millisecond},
		sc{id: "slower-but-relative-small", status: "pass", p50: 1000 * time.Millisecond},
		sc{id: "gone", status: "pass"},
	)
	head := diffReport(
		[]Rule{rule("Kept", "h1"), rule("Edited", "h2b"), rule("New", "h4"), {Name: "Upstream", Hash: "u2"}},
		sc{id: "still-pass", status: "pass", p50: 41 * time.Millisecond},
		sc{id: "breaks", status: "fail"},
		sc{id: "benign-breaks", status: "fail", benign: true},
		sc{id: "benign-still-fails", status: "fail", benign: true},
		sc{id: "errors-now", status: "error"},
		sc{id: "heals", status: "pass"},
		sc{id: "drops-now", status: "inconclusive"},
		sc{id: "flaky-now", status: "flaky"},
		sc{id: "slower", status: "pass", p50: 210 * time.Millisecond},
		sc{id: "slower-but-small", status: "pass", p50: 90 * time.Millisecond},
		sc{id: "slower-but-relative-small", status: "pass", p50: 1400 * time.Millisecond},
		sc{id: "added-pass", status: "pass"},
		sc{id: "added-fail", status: "fail"},
	)
	d := Diff(base, head, DefaultDiffOptions())

	ids := func(cs []Change) string {
		var out []string
		for _, c := range cs {
			out = append(out, c.Scenario)
		}
		return strings.Join(out, " ")
	}
	rules := func(rs []RuleChange) string {
		var out []string
		for _, r := range rs {
			out = append(out, r.Name)
		}
		return strings.Join(out, " ")
	}
	var slow []string
	for _, l := range d.LatencyRegressions {
		slow = append(slow, l.Scenario)
	}
	checks := []struct{ kind, got, want string }{
		{"newly failing", ids(d.NewlyFailing), "added-fail breaks"},
		{"new false positives", ids(d.NewFalsePositives), "benign-breaks"},
		{"new errors", ids(d.NewErrors), "errors-now"},
		{"new inconclusive", ids(d.NewInconclusive), "drops-now"},
		{"new flaky", ids(d.NewFlaky), "flaky-now"},
		{"newly passing", ids(d.NewlyPassing), "heals"},
		{"latency regressions", strings.Join(slow, " "), "slower"},
		{"added", ids(d.Added), "added-fail added-pass"},
		{"removed", ids(d.Removed), "gone"},
		{"rules added", rules(d.RulesAdded), "New"},
		{"rules removed", rules(d.RulesRemoved), "Dropped"},
		{"rules changed", rules(d.RulesChanged), "Edited"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: %q, want %q", c.kind, c.got, c.want)
		}
	}
	if !d.Regressed() {
		t.Error("not regressed")
	}
	if c := d.NewlyFailing[1]; c.Base != "pass" || c.Head != "fail" || c.Reason != "because fail" || c.Technique != "T1490" {
		t.Errorf("change %+v", c)
	}
	if c := d.NewlyFailing[0]; c.Base != "" || c.Head != "fail" {
		t.Errorf("added scenario change %+v, want base absent", c)
	}
	if l := d.LatencyRegressions[0]; l.Base != 100*time.Millisecond || l.Head != 210*time.Millisecond {
		t.Errorf("latency change %+v", l)
	}

	md := d.Markdown()
	for _, want := range []string{
		"> [!CAUTION]\n> **Regressed:** 2 newly failing, 1 new false positive, 1 new error, 1 latency regression.",
		"### Newly failing (2)",
		"| `breaks` | T1490 impact | pass → fail | `scenarios/impact/T1490.yaml:3` | because fail |",
		"| `added-fail` | T1490 impact | absent → fail |",
		"### New false positives: benign scenarios that now fail (1)",
		"### Latency regressions (1): p50 grew by more than +50% and at least 100 ms",
		"| `slower` | T1490 | 100 ms | 210 ms | +110% |",
		"### Newly passing (1)",
		"| `gone` | T1490 impact | pass → absent |",
		"### Rules changed (1)\n\n| Rule | File | Base hash | Head hash |\n|---|---|---|---|\n| `Edited` | `rules/impact.yaml` | `h2` | `h2b` |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("diff markdown lacks %q:\n%s", want, md)
		}
	}
}

func TestDiffRegressedOnlyOnRegressions(t *testing.T) {
	pass := sc{id: "a", status: "pass", p50: 50 * time.Millisecond}
	cases := []struct {
		name       string
		base, head *Report
		regressed  bool
	}{
		{"identical", diffReport(nil, pass), diffReport(nil, pass), false},
		{"newly failing", diffReport(nil, pass), diffReport(nil, sc{id: "a", status: "fail"}), true},
		{"new false positive", diffReport(nil, sc{id: "a", status: "pass", benign: true}), diffReport(nil, sc{id: "a", status: "fail", benign: true}), true},
		{"new error", diffReport(nil, pass), diffReport(nil, sc{id: "a", status: "error"}), true},
		{"latency", diffReport(nil, pass), diffReport(nil, sc{id: "a", status: "pass", p50: 200 * time.Millisecond}), true},
		{"still failing", diffReport(nil, sc{id: "a", status: "fail"}), diffReport(nil, sc{id: "a", status: "fail"}), false},
		{"newly passing", diffReport(nil, sc{id: "a", status: "fail"}), diffReport(nil, pass), false},
		{"new inconclusive", diffReport(nil, pass), diffReport(nil, sc{id: "a", status: "inconclusive"}), false},
		{"scenario removed", diffReport(nil, pass), diffReport(nil), false},
		{"scenario added passing", diffReport(nil), diffReport(nil, pass), false},
		{"scenario added erroring", diffReport(nil), diffReport(nil, sc{id: "a", status: "error"}), true},
		{"rule changed", diffReport([]Rule{{Name: "r", Hash: "1", Candidate: true}}, pass), diffReport([]Rule{{Name: "r", Hash: "2", Candidate: true}}, pass), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := Diff(c.base, c.head, DefaultDiffOptions())
			if d.Regressed() != c.regressed {
				t.Errorf("Regressed() = %v, want %v: %+v", d.Regressed(), c.regressed, d)
			}
			if strings.Contains(d.Markdown(), "[!CAUTION]") != c.regressed {
				t.Errorf("markdown disagrees:\n%s", d.Markdown())
			}
		})
	}
}

func TestDiffLatencyThresholdNeedsBothBounds(t *testing.T) {
	opts := DiffOptions{LatencyRelative: 0.5, LatencyAbsolute: 100 * time.Millisecond}
	cases := []struct {
		base, head time.Duration
		regressed  bool
	}{
		{100 * time.Millisecond, 150 * time.Millisecond, false}, // +50% is not more than +50%
		{100 * time.Millisecond, 151 * time.Millisecond, false}, // +51% but only 51 ms
		{200 * time.Millisecond, 301 * time.Millisecond, true},  // +50.5% and 101 ms
		{10 * time.Millisecond, 109 * time.Millisecond, false},  // +990% but 99 ms
		{10 * time.Millisecond, 110 * time.Millisecond, true},
		{1 * time.Second, 1400 * time.Millisecond, false}, // 400 ms but +40%
	}
	for _, c := range cases {
		got := latencyRegressed(Latency{Count: 1, P50: c.base}, Latency{Count: 1, P50: c.head}, opts)
		if got != c.regressed {
			t.Errorf("%v -> %v: regressed %v, want %v", c.base, c.head, got, c.regressed)
		}
	}
	if latencyRegressed(Latency{}, Latency{Count: 1, P50: time.Hour}, opts) {
		t.Error("a scenario with no base latency regressed")
	}
}

func TestDiffNotesWhatWeakensTheComparison(t *testing.T) {
	base := diffReport(nil, sc{id: "a", status: "pass"})
	head := diffReport(nil, sc{id: "a", status: "pass"})
	base.Meta.Falco = Falco{Version: "0.40.0", Transport: "grpc"}
	head.Meta.Falco = Falco{Version: "0.43.1", Transport: "grpc"}
	head.Summary.Trustworthy, head.Summary.Drops = false, 7
	head.Meta.LabelFilter = "technique:T1490"
	d := Diff(base, head, DefaultDiffOptions())
	notes := strings.Join(d.Notes, "\n")
	for _, want := range []string{`Falco version differs: base "0.40.0", head "0.43.1".`, "The head run is not trustworthy: Falco dropped 7 events.", `head filter "technique:T1490"`} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}
	if strings.Contains(notes, "transport") {
		t.Errorf("an unchanged transport is noted:\n%s", notes)
	}
	if d.Summary() != "no regression, no change" {
		t.Errorf("summary %q", d.Summary())
	}
}

func TestDiffFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, r *Report) string {
		path := filepath.Join(dir, name)
		var buf bytes.Buffer
		if err := r.WriteJSON(&buf); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	base := write("base.json", diffReport(nil, sc{id: "a", status: "pass"}))
	head := write("head.json", diffReport(nil, sc{id: "a", status: "fail"}))

	d, err := DiffFiles(base, head, DefaultDiffOptions())
	if err != nil {
		t.Fatal(err)
	}
	if d.ExitCode() != ExitFailed || len(d.NewlyFailing) != 1 {
		t.Errorf("exit %d newly failing %d, want 1 1", d.ExitCode(), len(d.NewlyFailing))
	}
	if d, _ := DiffFiles(base, base, DefaultDiffOptions()); d.ExitCode() != ExitOK {
		t.Errorf("a report against itself exits %d", d.ExitCode())
	}
	if _, err := DiffFiles(filepath.Join(dir, "none.json"), head, DefaultDiffOptions()); err == nil || !strings.Contains(err.Error(), "base") {
		t.Errorf("missing base: %v", err)
	}
	if _, err := DiffFiles(base, filepath.Join(dir, "none.json"), DefaultDiffOptions()); err == nil || !strings.Contains(err.Error(), "head") {
		t.Errorf("missing head: %v", err)
	}
}
