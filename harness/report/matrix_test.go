package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/attack-replay/attack-replay/harness/alert"
	"github.com/attack-replay/attack-replay/harness/scenario"
	"github.com/attack-replay/attack-replay/harness/verdict"
)

// Transport errors of the entry that did not start, as the session wrote
// them: the first line is what the matrix shows.
const noGRPC = "run falco: choose transport: falco 0.44.1 has no gRPC output (removed in 0.44); use transport http or auto"

// matrixRun is the recorded run as another Falco ran it: run changes the
// results before Build, meta the Falco it names.
func matrixRun(t *testing.T, falco Falco, change func(*Run)) *Report {
	t.Helper()
	run := recordedRun(t)
	run.Meta.Falco = falco
	if change != nil {
		change(&run)
	}
	return Build(run)
}

// without drops the scenario's result from the run.
func without(id string) func(*Run) {
	return func(r *Run) {
		r.Results = slices.DeleteFunc(r.Results, func(res verdict.Result) bool { return res.ScenarioID == id })
	}
}

// matrixInputs are four entries:
//
//	0.40.0 http  the recorded run without find-private-keys
//	0.44.1 http  the image tagged latest; root-systemctl-rescue gets no alert (fail), read-shadow absent
//	0.44.1 grpc  Falco did not start: no gRPC output in 0.44
//	a directory  the run wrote no report.json
func matrixInputs(t *testing.T) []MatrixInput {
	t.Helper()
	base := matrixRun(t, Falco{Version: "0.40.0", Image: "falcosecurity/falco:0.40.0", Engine: "modern_ebpf", Transport: alert.TransportHTTP},
		without("find-private-keys"))
	head := matrixRun(t, Falco{Version: "0.44.1", Image: "registry.example/falco:latest", Engine: "modern_ebpf", Transport: alert.TransportHTTP},
		func(r *Run) {
			without("read-shadow")(r)
			for i, res := range r.Results {
				if res.ScenarioID == "root-systemctl-rescue" {
					sc := r.Scenarios[slices.IndexFunc(r.Scenarios, func(s *scenario.Scenario) bool { return s.ID == res.ScenarioID })]
					r.Results[i] = verdict.Summarise([]verdict.Verdict{judgeAttempt(t, sc, 1, attemptSpec{file: samples044}, r.Meta.Start)})
				}
			}
		})
	failed := Build(Run{Meta: Meta{Falco: Falco{Version: "0.44.1", Image: "falcosecurity/falco:0.44.1"},
		RunErrors: []string{noGRPC + "\nlast log lines:\n  Falco version: 0.44.1"}}})
	return []MatrixInput{
		{Source: "reports/matrix/a/report.json", Report: base},
		{Source: "reports/matrix/b/report.json", Report: head},
		{Label: "falcosecurity/falco:0.44.1@grpc", Source: "reports/matrix/c/report.json", Report: failed},
		{Source: "reports/matrix/d", Missing: "the run wrote no report.json (see reports/matrix/d/run.log)"},
	}
}

func TestMatrixFlagsTheRowsWhereEntriesDisagree(t *testing.T) {
	m := BuildMatrix(matrixInputs(t))
	if m.Schema != MatrixSchema {
		t.Errorf("schema %q", m.Schema)
	}
	if want := (MatrixSummary{Entries: 4, NotRun: 2, Scenarios: 8, Differing: 3}); m.Summary != want {
		t.Errorf("summary %+v, want %+v", m.Summary, want)
	}
	if got, want := m.Headline(), "8 scenarios on 4 Falco entries: 3 differ; 2 did not run."; got != want {
		t.Errorf("headline %q, want %q", got, want)
	}

	ms := time.Millisecond
	wantEntries := []struct {
		label, heading string
		ran            bool
		scenarios      int
		p50, p95       time.Duration
		errors         []string
	}{
		// Latencies 37 ms (rescue), 50 ms (rm -rf, attempt 1), 122 ms (shadow).
		{"falcosecurity/falco:0.40.0@http", "0.40.0 http", true, 7, 50 * ms, 122 * ms, nil},
		// The version is the report's, not the tag's; 50 ms, 312 ms (keys).
		{"registry.example/falco:latest@http", "0.44.1 http", true, 7, 50 * ms, 312 * ms, nil},
		{"falcosecurity/falco:0.44.1@grpc", "falco:0.44.1@grpc", false, 0, 0, 0, []string{noGRPC}},
		{"d", "d", false, 0, 0, 0, []string{"the run wrote no report.json (see reports/matrix/d/run.log)"}},
	}
	heads := m.headings()
	for i, w := range wantEntries {
		e := m.Entries[i]
		if e.Label != w.label || heads[i] != w.heading || e.Ran != w.ran || e.Counts.Scenarios != w.scenarios ||
			e.Latency.P50 != w.p50 || e.Latency.P95 != w.p95 || !slices.Equal(e.Errors, w.errors) {
			t.Errorf("entry %d: %q heading %q ran %v, %d scenarios, p50 %v p95 %v, errors %q\nwant %+v",
				i, e.Label, heads[i], e.Ran, e.Counts.Scenarios, e.Latency.P50, e.Latency.P95, e.Errors, w)
		}
	}
	if e := m.Entries[0]; e.Falco.Engine != "modern_ebpf" || e.Drops != 12 || e.Trustworthy {
		t.Errorf("entry 0: engine %q, drops %d, trustworthy %v; want the run's drops", e.Falco.Engine, e.Drops, e.Trustworthy)
	}

	wantRows := []struct {
		scenario string
		differs  bool
		a, b     MatrixCell // the two entries that ran
	}{
		{"root-systemctl-rescue", true, MatrixCell{Status: "pass"},
			MatrixCell{Status: "fail", Note: `expected "Disable recovery features": no alert matched`}},
		{"root-rm-rf", false,
			MatrixCell{Status: "flaky", Note: `attempts pass, fail: expected "Disable recovery features": no alert matched`},
			MatrixCell{Status: "flaky", Note: `attempts pass, fail: expected "Disable recovery features": no alert matched`}},
		{"systemctl-disable-recovery-mode", false,
			MatrixCell{Status: "fail", Note: `expected "Disable recovery features": no alert matched (near miss on user.name)`},
			MatrixCell{Status: "fail", Note: `expected "Disable recovery features": no alert matched (near miss on user.name)`}},
		{"benign-rm-build-cache", false,
			MatrixCell{Status: "fail", Note: `forbidden "Disable recovery features" fired (1 alert)`},
			MatrixCell{Status: "fail", Note: `forbidden "Disable recovery features" fired (1 alert)`}},
		{"mkfs-nodiscard", false,
			MatrixCell{Status: "error", Note: `step 1 "mkfs.ext4 -E nodiscard /dev/loop0" exited 127 (command not found): sh: 1: mkfs.ext4: not found`},
			MatrixCell{Status: "error", Note: `step 1 "mkfs.ext4 -E nodiscard /dev/loop0" exited 127 (command not found): sh: 1: mkfs.ext4: not found`}},
		{"find-private-keys", true, MatrixCell{Status: CellAbsent}, MatrixCell{Status: "pass"}},
		{"grep-passwords", false,
			MatrixCell{Status: "inconclusive", Note: `Falco dropped 12 syscall events during the attempt: expected "Search Private Keys or Passwords": no alert matched`},
			MatrixCell{Status: "inconclusive", Note: `Falco dropped 12 syscall events during the attempt: expected "Search Private Keys or Passwords": no alert matched`}},
		{"read-shadow", true, MatrixCell{Status: "pass"}, MatrixCell{Status: CellAbsent}},
	}
	if len(m.Rows) != len(wantRows) {
		t.Fatalf("%d rows, want %d", len(m.Rows), len(wantRows))
	}
	notRun := MatrixCell{Status: CellNotRun}
	for i, w := range wantRows {
		r := m.Rows[i]
		want := []MatrixCell{w.a, w.b, notRun, notRun}
		if r.Scenario != w.scenario || r.Differs != w.differs || !slices.Equal(r.Cells, want) {
			t.Errorf("row %d: %s differs %v cells %+v\nwant %s differs %v cells %+v", i, r.Scenario, r.Differs, r.Cells, w.scenario, w.differs, want)
		}
	}
	if r := m.Rows[5]; r.Technique != "T1552.001" || r.Tactic != "credential-access" || r.Name != "Credentials In Files" ||
		r.File != "scenarios/credential-access/T1552.001.yaml" || r.Line != 5 {
		t.Errorf("find-private-keys row named %+v: want it from the entry that has it", r)
	}
	if !m.Rows[3].Benign || m.Rows[0].Benign {
		t.Error("benign-rm-build-cache is benign, root-systemctl-rescue is not")
	}
}

func TestMatrixOfOneEntryOrIdenticalEntriesDiffersNowhere(t *testing.T) {
	in := matrixInputs(t)
	for name, entries := range map[string][]MatrixInput{
		"one entry":            in[:1],
		"the same run twice":   {in[0], in[0]},
		"one ran, two did not": {in[0], in[2], in[3]},
	} {
		m := BuildMatrix(entries)
		if m.Summary.Differing != 0 || slices.ContainsFunc(m.Rows, func(r MatrixRow) bool { return r.Differs }) {
			t.Errorf("%s: %d rows differ, want none", name, m.Summary.Differing)
		}
		if m.Summary.Scenarios != 7 {
			t.Errorf("%s: %d rows, want the 7 scenarios of the run", name, m.Summary.Scenarios)
		}
	}
	if m := BuildMatrix(in[2:]); len(m.Rows) != 0 || m.Summary.NotRun != 2 {
		t.Errorf("no entry ran: %d rows, %d not run", len(m.Rows), m.Summary.NotRun)
	}
	// Two entries reading the same are told apart by their position.
	if heads := BuildMatrix([]MatrixInput{in[0], in[0]}).headings(); !slices.Equal(heads, []string{"0.40.0 http (#1)", "0.40.0 http (#2)"}) {
		t.Errorf("headings %q", heads)
	}
}

func TestMatrixMarkdown(t *testing.T) {
	md := BuildMatrix(matrixInputs(t)).Markdown()
	golden(t, "matrix.md", []byte(md))
	lines := strings.Split(md, "\n")
	for _, want := range []string{
		"**8 scenarios on 4 Falco entries: 3 differ; 2 did not run.**",
		"| `registry.example/falco:latest@http` | 0.44.1 | http | modern\\_ebpf | 7 | 1 | 4 | 1 | 1 | 1 | 12 (untrustworthy) | 50 ms | 312 ms | ok |",
		"| `falcosecurity/falco:0.44.1@grpc` | 0.44.1 | - | - | 0 | 0 | 0 | 0 | 0 | 0 | - | - | - | did not run: " + MarkdownText(noGRPC) + " |",
		"| Technique | Scenario | 0.40.0 http | 0.44.1 http | falco:0.44.1@grpc | d |",
		"| T1490 impact | `root-systemctl-rescue` | pass | **fail** expected \"Disable recovery features\": no alert matched | — | — |",
		"| T1552.001 credential-access | `find-private-keys` | *absent* | pass | — | — |",
		"| T1490 impact | `benign-rm-build-cache` (benign) | **fail** forbidden \"Disable recovery features\" fired (1 alert) | **fail** forbidden \"Disable recovery features\" fired (1 alert) | — | — |",
	} {
		if indexOf(lines, want) < 0 {
			t.Errorf("matrix.md lacks the line\n%s\n---\n%s", want, md)
		}
	}
	// The differing rows first, in row order; the others after, folded.
	differ, same := indexOf(lines, "## Differing (3)"), indexOf(lines, "## Same on every entry (5)")
	at := func(id string) int {
		return slices.IndexFunc(lines, func(l string) bool { return strings.Contains(l, "| `"+id+"` ") })
	}
	order := []int{differ, at("root-systemctl-rescue"), at("find-private-keys"), at("read-shadow"), same, at("root-rm-rf"), at("grep-passwords")}
	if !slices.IsSorted(order) || slices.Contains(order, -1) {
		t.Errorf("sections and rows at lines %v, want differing rows first:\n%s", order, md)
	}
	if !strings.Contains(md, "<details><summary>5 scenarios with one result everywhere</summary>") {
		t.Error("the identical rows are not folded")
	}

	one := BuildMatrix(matrixInputs(t)[:1]).Markdown()
	if !strings.Contains(one, "## Differing (0)\n\nEvery scenario has the same result on every entry that ran.\n") {
		t.Errorf("a matrix without differences does not say so:\n%s", one)
	}
}

func TestMatrixMarkdownStaysShortEnoughForAComment(t *testing.T) {
	in := matrixInputs(t)[:2]
	for _, e := range in {
		tech := &e.Report.Techniques[0]
		for i := range 3000 {
			s := tech.Scenarios[1] // flaky, with a note
			s.ID = fmt.Sprintf("generated-%04d", i)
			tech.Scenarios = append(tech.Scenarios, s)
		}
	}
	md := BuildMatrix(in).Markdown()
	if len(md) > MaxMarkdownBytes {
		t.Errorf("matrix.md is %d bytes, over %d", len(md), MaxMarkdownBytes)
	}
	if !strings.Contains(md, "more scenarios in matrix.json |") {
		t.Error("a cut matrix.md does not say how many rows it left out")
	}
}

func TestMatrixJSONRoundTrip(t *testing.T) {
	m := BuildMatrix(matrixInputs(t))
	var buf bytes.Buffer
	if err := m.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var back Matrix
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&back, m) {
		t.Errorf("matrix.json does not read back the same:\n%s", buf.Bytes())
	}
	for _, want := range []string{`"schema": "attack-replay/matrix/v1"`, `"status": "not-run"`, `"differs": true`, `"p95_ns": 312000000`} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("matrix.json lacks %s", want)
		}
	}
}

func TestMatrixFiles(t *testing.T) {
	dir := t.TempDir()
	in := matrixInputs(t)
	write := func(name string, r *Report) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := WriteDir(p, r); err != nil {
			t.Fatal(err)
		}
		return p
	}
	a := write("a", in[0].Report)
	b := filepath.Join(write("b", in[1].Report), JSONFile)
	noReport := filepath.Join(dir, "falcosecurity_falco_0.44.1@grpc")
	if err := os.MkdirAll(noReport, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(noReport, RunLogFile), []byte("go: build failed\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	m, err := MatrixFiles([]string{a, "head=" + b, noReport})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range m.Entries {
		got = append(got, e.Label+" | "+e.Source+" | "+strings.Join(e.Errors, "; "))
	}
	want := []string{
		"falcosecurity/falco:0.40.0@http | " + a + " | ",
		"head | " + b + " | ",
		"falcosecurity_falco_0.44.1@grpc | " + noReport + " | the run wrote no report.json (see " + filepath.Join(noReport, RunLogFile) + ")",
	}
	if !slices.Equal(got, want) {
		t.Errorf("entries\n got %q\nwant %q", got, want)
	}
	if m.Summary.Differing != 3 || m.Summary.NotRun != 1 {
		t.Errorf("summary %+v", m.Summary)
	}

	broken := filepath.Join(dir, "broken.json")
	if err := os.WriteFile(broken, []byte("{\"schema\": \"attack-replay/report/v1\",\n  \"meta\": 3}"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "no reports given"},
		{[]string{filepath.Join(dir, "nope")}, "no such file or directory"},
		{[]string{a, broken}, "line 2, column"},
		{[]string{"=" + b}, "want [LABEL=]PATH"},
		{[]string{"x="}, "want [LABEL=]PATH"},
	} {
		if _, err := MatrixFiles(tc.args); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("MatrixFiles(%q) = %v; want an error containing %q", tc.args, err, tc.want)
		}
	}
}
