package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestImportAtomics imports testdata/atomics (atomics files written for the
// project) with the flags after the source, as the README writes it; the
// library it writes validates against the project's rules.
func TestImportAtomics(t *testing.T) {
	out := filepath.Join(t.TempDir(), "atomics")
	code, stdout, stderr := runCLI(t, "", "import-atomics", "testdata/atomics", "--out", out)
	if code != exitOK || stderr != "" {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	for _, want := range []string{
		"14 atomic tests in 5 files: 9 imported into 5 technique files (2 skipped until re-imported with --allow-network), 5 not imported\n",
		`  not imported: testdata/atomics/T1070.003/T1070.003.yaml:38: atomic test 3 "Clear PowerShell history": supported_platforms windows: not linux`,
		"wrote " + filepath.Join(out, "stealth", "T1070.003.yaml"),
		"load them with: attack-replay validate --scenarios " + out,
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	code, stdout, stderr = runCLI(t, "", "validate", "--rules", "testdata/good/rules", "--scenarios", out)
	if code != exitOK || !strings.HasPrefix(stdout, "ok: 9 scenarios (9 attack, 0 benign) for 5 techniques in 5 tactics") {
		t.Errorf("validate: exit %d\n%s%s", code, stdout, stderr)
	}
}

func TestImportAtomicsErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "T1082.yaml")
	if err := os.WriteFile(bad, []byte("attack_technique: T1082\natomic_tests:\n- name: x\n  executor: [sh]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"import-atomics", "--out", dir}, exitUsage, "want one DIR_OR_FILE, got 0 arguments []"},
		{[]string{"import-atomics", "a", "--out", dir, "b"}, exitUsage, `want one DIR_OR_FILE, got 2 arguments ["a" "b"]`},
		{[]string{"import-atomics", filepath.Join(dir, "missing"), "--out", dir}, exitUsage, "missing: no such file or directory (give an atomics file or directory, like atomic-red-team/atomics)"},
		{[]string{"import-atomics", bad, "--out", filepath.Join(dir, "out")}, exitProblems, bad + `:4:13: atomic test 1 "x": executor must be a mapping (see atomic_red_team/spec.yaml of Atomic Red Team)`},
	} {
		code, _, stderr := runCLI(t, "", tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.stderr) {
			t.Errorf("%q: exit %d, stderr:\n%s\nwant exit %d and %q", tc.args, code, stderr, tc.code, tc.stderr)
		}
	}
}

// TestImportAtomicsRehearse rehearses the import in real victims: every
// scenario runs as declared but the one whose prerequisite cannot be met,
// which says so; those that reach the network are skipped.
func TestImportAtomicsRehearse(t *testing.T) {
	requireDocker(t)
	out := filepath.Join(t.TempDir(), "atomics")
	if code, _, stderr := runCLI(t, "", "import-atomics", "testdata/atomics", "--out", out); code != exitOK {
		t.Fatalf("import: exit %d\n%s", code, stderr)
	}
	code, stdout, stderr := runCLI(t, "", "rehearse", "--scenarios", out, "--workers", "1")
	t.Logf("stdout:\n%s\nstderr:\n%s", stdout, stderr)
	if code != exitProblems {
		t.Errorf("exit %d, want %d: one prerequisite is not met", code, exitProblems)
	}
	for _, want := range []string{
		"ERROR  art-t1053-003-3-write-a-user-crontab-file",
		"prerequisite 1 not met (The cron spool directory holds a marker file): no marker in /var/spool/cron/crontabs",
		"SKIP   art-t1105-1-download-a-script-with-curl",
		"ok     art-t1070-003-2-truncate-a-history-file-with-bash",
		"rehearse: 6 ok, 1 not as declared, 2 skipped",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q", want)
		}
	}
}
