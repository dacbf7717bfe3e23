package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/attack-replay/attack-replay/harness/falco/falcotest"
	"github.com/attack-replay/attack-replay/harness/report"
	"github.com/attack-replay/attack-replay/harness/victim"
)

// These tests run scripts/test-matrix.sh, the recipe of `make test-matrix`,
// from the repository root: make itself turns every failure into exit 2,
// the script tells them apart.
var matrixScript = []string{"scripts/test-matrix.sh"}

// runMatrixLoop runs argv (the script, or make test-matrix) with the given
// variables over the session package's test rules and scenarios, reports
// in a temp dir, and returns its exit status, its output and the report
// directory.
func runMatrixLoop(t *testing.T, timeout time.Duration, argv []string, vars ...string) (int, string, string) {
	t.Helper()
	reports := filepath.Join(t.TempDir(), "reports")
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = filepath.Join("..", "..")
	cmd.WaitDelay = 10 * time.Second
	// The user's configuration stays out, and so does an outer make's.
	cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool {
		name, _, _ := strings.Cut(kv, "=")
		return slices.Contains([]string{"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "FALCO_IMAGE", "FALCO_IMAGES", "FALCO_TRANSPORT",
			"FALCO_PRIVILEGES", "FALCO_IMAGE_RULES", "FALCO_STARTUP_TIMEOUT", "VICTIM_IMAGE", "VICTIM_PRIVILEGES", "TECHNIQUES", "TACTICS",
			"REPEAT", "GINKGO_FLAGS", "MATRIX_FLAGS", "BARRIER_GRACE"}, name)
	})
	cmd.Env = append(cmd.Env, "REPORT_DIR="+reports, "RULES=harness/session/testdata/rules", "SCENARIOS=harness/session/testdata/scenarios",
		"BARRIER_TIMEOUT=1s", "WORKERS=2", "TESTCONTAINERS_RYUK_DISABLED=true")
	cmd.Env = append(cmd.Env, vars...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("make test-matrix: %v\n%s", err, out.String())
	}
	return cmd.ProcessState.ExitCode(), out.String(), reports
}

func TestMatrixLoopRefusesABadListBeforeRunningAnything(t *testing.T) {
	for _, c := range []struct{ images, want string }{
		{"", "no entry: set it to the Falco images to compare"},
		{"falcosecurity/falco:0.44.1@grcp", `entry 1 "falcosecurity/falco:0.44.1@grcp": unknown transport "@grcp" (want @grpc or @http`},
		{"a:1 b:2,,c:3", `"b:2,,c:3": an empty entry between two commas`},
		{"a:1@http @grpc", `entry 2 "@grpc": no image before @grpc`},
		{"a:1@", `entry 1 "a:1@": nothing after @`},
		{"a:1, b:2\n a:1@auto", `entry 3 "a:1@auto": repeats entry 1 ("a:1")`},
		{"a/b:1 a_b:1", `entry 2 "a_b:1": would share the report directory a_b_1 with entry 1 ("a/b:1")`},
		{"a:1@grpc@http", `entry 1 "a:1@grpc@http": "a:1@grpc" is not an image`},
	} {
		code, out, reports := runMatrixLoop(t, time.Minute, matrixScript, "FALCO_IMAGES="+c.images)
		if code != 2 || !strings.Contains(out, `attack-replay: FALCO_IMAGES="`+c.images+`" has `) || !strings.Contains(out, c.want) {
			t.Errorf("FALCO_IMAGES=%q: exit %d, want 2 and %q:\n%s", c.images, code, c.want, out)
		}
		if _, err := os.Stat(reports); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("FALCO_IMAGES=%q: %s exists (%v): something ran", c.images, reports, err)
		}
	}
	if code, out, _ := runMatrixLoop(t, time.Minute, matrixScript, "FALCO_IMAGES=a:1", "FALCO_TRANSPORT=grcp"); code != 2 || !strings.Contains(out, `FALCO_TRANSPORT="grcp": want auto, grpc or http`) {
		t.Errorf("a bad FALCO_TRANSPORT: exit %d:\n%s", code, out)
	}
	// The make target runs the script with the make variables.
	code, out, _ := runMatrixLoop(t, time.Minute, []string{"make", "--no-print-directory", "test-matrix", "FALCO_IMAGES=a:1 a:1"})
	if code == 0 || !strings.Contains(out, `entry 2 "a:1": repeats entry 1`) {
		t.Errorf("make test-matrix FALCO_IMAGES=\"a:1 a:1\": exit %d:\n%s", code, out)
	}
}

func TestMatrixLoopNamesEveryMissingImageBeforeRunningAnything(t *testing.T) {
	present := standin(t, "0.44.1")
	start := time.Now()
	code, out, reports := runMatrixLoop(t, 5*time.Minute, matrixScript,
		"FALCO_IMAGES=attack-replay/no-such-falco:0.40.0 "+present+"@http attack-replay/no-such-falco:0.43.1@grpc")
	t.Logf("refused in %v", time.Since(start).Round(time.Millisecond))
	if code != 2 || !strings.Contains(out, "FALCO_IMAGES names 2 Falco image(s) that are not in the Docker engine and cannot be pulled; nothing was run:\n") ||
		!strings.Contains(out, "\n  attack-replay/no-such-falco:0.40.0 (") || !strings.Contains(out, "\n  attack-replay/no-such-falco:0.43.1 (") ||
		strings.Contains(out, present+" (") {
		t.Errorf("exit %d, want 2 naming FALCO_IMAGES and both missing images, not the present one:\n%s", code, out)
	}
	if _, err := os.Stat(reports); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s exists (%v): something ran", reports, err)
	}
}

// TestMatrixLoopOverStandins runs the suite four times: stand-ins of Falco
// 0.43.1 (auto: gRPC) and 0.44.1 (http), 0.44.1 asked for gRPC, which it no
// longer has, and a 0.43.1 that rejects the rules. The stand-in never
// answers a barrier, so every scenario of the first two is an error verdict
// (the runs fail, as a run of errors does); the last two never start. The
// matrix shows all four.
func TestMatrixLoopOverStandins(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped in -short mode: runs the suite four times (about a minute)")
	}
	v43, v44 := standin(t, "0.43.1"), standin(t, "0.44.1")
	rejects := standin(t, "0.43.1", falcotest.WithReplay("start-fails-invalid-rules-0.43.1.stderr"))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if ok, err := victim.ImagePresent(ctx, victim.DefaultImage); err != nil || !ok {
		t.Skipf("victim image %q is not built (%v): run `make victim-image`", victim.DefaultImage, err)
	}
	labels := []string{v43, v44 + "@http", v44 + "@grpc", rejects}
	code, out, reports := runMatrixLoop(t, 15*time.Minute, matrixScript, "FALCO_IMAGES="+strings.Join(labels, " "))
	t.Log(tail(out, 3000))
	if code != 1 {
		t.Errorf("exit %d, want 1: every entry's run failed", code)
	}
	dir := filepath.Join(reports, "matrix")
	dirs := []string{}
	for _, l := range labels {
		dirs = append(dirs, filepath.Join(dir, strings.NewReplacer("/", "_", ":", "_").Replace(l)))
	}
	for i, d := range dirs {
		files := []string{report.JSONFile, report.MarkdownFile, report.HTMLFile, report.NavigatorFile, report.RunLogFile}
		if i < 2 {
			files = append(files, "junit.xml") // of the runs that started
		}
		for _, f := range files {
			if fi, err := os.Stat(filepath.Join(d, f)); err != nil || fi.Size() == 0 {
				t.Errorf("entry %d: %s: %v", i+1, f, err)
			}
		}
	}
	for _, f := range []string{"matrix.md", "matrix.html", "matrix.json"} {
		if fi, err := os.Stat(filepath.Join(dir, f)); err != nil || fi.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	for _, want := range []string{"matrix entry 3 of 4: " + v44 + "@grpc (transport grpc)",
		"3 scenarios on 4 Falco entries: 0 differ; 2 did not run.", "4 of 4 entries' runs failed:"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}

	raw, err := os.ReadFile(filepath.Join(dir, "matrix.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m report.Matrix
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	type entry struct {
		label, version, transport string
		ran                       bool
		errorVerdicts, runErrors  int
	}
	var got []entry
	for _, e := range m.Entries {
		got = append(got, entry{e.Label, e.Falco.Version, e.Falco.Transport, e.Ran, e.Counts.Error, len(e.Errors)})
	}
	want := []entry{{v43, "0.43.1", "grpc", true, 3, 0}, {v44 + "@http", "0.44.1", "http", true, 3, 0}, {v44 + "@grpc", "", "", false, 0, 1},
		{rejects, "0.43.1", "grpc", false, 0, 1}}
	if !slices.Equal(got, want) {
		t.Errorf("entries\n got %+v\nwant %+v", got, want)
	}
	if errs := m.Entries[2].Errors; len(errs) != 1 || !strings.Contains(errs[0], "falco 0.44.1 has no gRPC output") {
		t.Errorf("the entry that did not start says %q; want Falco's missing gRPC", errs)
	}
	if errs := m.Entries[3].Errors; len(errs) != 1 || !strings.Contains(errs[0], "harness/session/testdata/rules/rm_rf.yaml:4:11: ") ||
		!strings.Contains(errs[0], "LOAD_ERR_COMPILE_OUTPUT") {
		t.Errorf("the entry whose Falco rejected the rules says %q; want Falco's error with file:line:column", errs)
	}
	var rows []string
	for _, r := range m.Rows {
		rows = append(rows, r.Scenario)
		if r.Differs || len(r.Cells) != 4 || r.Cells[2].Status != report.CellNotRun || r.Cells[3].Status != report.CellNotRun {
			t.Errorf("%s: differs %v, cells %+v", r.Scenario, r.Differs, r.Cells)
			continue
		}
		for i, c := range r.Cells[:2] {
			if c.Status != "error" || !strings.Contains(c.Note, "barrier") {
				t.Errorf("%s on entry %d: %+v; want the barrier error", r.Scenario, i+1, c)
			}
		}
	}
	if !slices.Equal(rows, []string{"rm-rf-data", "rm-rf-var-tmp", "rm-single-file"}) {
		t.Errorf("rows %q", rows)
	}

	// Every victim of both runs is gone.
	for _, d := range dirs[:2] {
		rep, err := report.Load(filepath.Join(d, report.JSONFile))
		if err != nil {
			t.Fatal(err)
		}
		for _, tech := range rep.Techniques {
			for _, s := range tech.Scenarios {
				for _, a := range s.Attempts {
					if a.VictimID == "" {
						t.Errorf("%s: no victim id", s.ID)
					} else if exec.Command("docker", "container", "inspect", a.VictimID).Run() == nil {
						t.Errorf("%s: victim %s left behind", s.ID, a.VictimID)
					}
				}
			}
		}
	}
}

// standin builds a stand-in Falco image of version for this test, removed
// when it ends, or skips the test when no Docker engine answers.
func standin(t *testing.T, version string, opts ...falcotest.Option) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	img, err := falcotest.BuildStandin(ctx, version, opts...)
	if errors.Is(err, falcotest.ErrEngineUnreachable) {
		t.Skipf("no stand-in Falco image: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := falcotest.Remove(context.Background(), img); err != nil {
			t.Error(err)
		}
	})
	return img
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
