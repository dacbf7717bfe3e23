package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/attack-replay/attack-replay/harness/report"
)

// on044 is the golden report as Falco 0.44.1 ran it, with
// find-private-keys newly failing.
func on044(t *testing.T) func(*report.Report) {
	return func(r *report.Report) {
		r.Meta.Falco.Version, r.Meta.Falco.Image = "0.44.1", "falcosecurity/falco:0.44.1"
		newlyFailing(t)(r)
	}
}

func TestMatrixCommand(t *testing.T) {
	dir := t.TempDir()
	a := writeReport(t, dir, "a.json", nil)
	b := writeReport(t, dir, "b.json", on044(t))
	md, page, js := filepath.Join(dir, "m.md"), filepath.Join(dir, "m.html"), filepath.Join(dir, "m.json")

	code, stdout, stderr := runCLI(t, dir, "matrix", "--markdown", md, "--html", page, "--json", js, a, b)
	want := "8 scenarios on 2 Falco entries: 1 differ.\n" +
		"  entry 1 falcosecurity/falco:0.40.0@http: falco 0.40.0 http, 8 scenarios, 3 pass, 3 fail, 1 error, 1 inconclusive, 1 flaky\n" +
		"  entry 2 falcosecurity/falco:0.44.1@http: falco 0.44.1 http, 8 scenarios, 3 pass, 3 fail, 1 error, 1 inconclusive, 1 flaky\n" +
		"  differs: find-private-keys (T1552.001 credential-access): pass | fail\n"
	if code != exitOK || stdout != want || stderr != "" {
		t.Errorf("exit %d\nstdout %q\nwant   %q\nstderr %q", code, stdout, want, stderr)
	}
	for _, f := range []string{md, page, js} {
		if fi, err := os.Stat(f); err != nil || fi.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	var m report.Matrix
	if raw, err := os.ReadFile(js); err != nil || json.Unmarshal(raw, &m) != nil || m.Schema != report.MatrixSchema || m.Summary.Differing != 1 {
		t.Errorf("matrix.json: %v, schema %q, summary %+v", err, m.Schema, m.Summary)
	}

	if code, _, _ := runCLI(t, dir, "matrix", "--fail-on-diff", a, b); code != exitProblems {
		t.Errorf("--fail-on-diff with a differing row: exit %d, want %d", code, exitProblems)
	}
	if code, _, _ := runCLI(t, dir, "matrix", "--fail-on-diff", a, "again="+a); code != exitOK {
		t.Errorf("--fail-on-diff with identical entries: exit %d, want %d", code, exitOK)
	}
	code, stdout, _ = runCLI(t, dir, "matrix", "--markdown", "-", "old="+a, "new="+b)
	if code != exitOK || !strings.HasPrefix(stdout, "# attack-replay Falco version matrix\n") || !strings.Contains(stdout, "| `old` | 0.40.0 |") {
		t.Errorf("--markdown -: exit %d\n%s", code, stdout)
	}
}

func TestMatrixCommandRefusesWhatItCannotRead(t *testing.T) {
	dir := t.TempDir()
	a := writeReport(t, dir, "a.json", nil)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"matrix"}, "attack-replay matrix: want at least one report.json or entry directory\nUsage: attack-replay matrix [flags] [LABEL=]REPORT ..."},
		{[]string{"matrix", a, "--fail-on-diff"}, "attack-replay matrix: flags go before the reports\n"},
		{[]string{"matrix", a, "nope.json"}, `attack-replay matrix: assemble matrix: entry "nope.json": stat nope.json: no such file or directory`},
		{[]string{"matrix", "--html", filepath.Join(dir, "no", "such", "dir.html"), a}, "attack-replay matrix: open "},
	} {
		code, stdout, stderr := runCLI(t, dir, c.args...)
		if code != exitUsage || stdout != "" || !strings.HasPrefix(stderr, c.want) {
			t.Errorf("%q: exit %d, stdout %q\nstderr %q\nwant   %q...", c.args, code, stdout, stderr, c.want)
		}
	}
}
