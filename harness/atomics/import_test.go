package atomics

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/attack-replay/attack-replay/harness/scenario"
)

// fixtureDir holds atomics files written for the project in Atomic Red
// Team's layout (atomics/T*/T*.yaml); the CLI's tests import them too.
var fixtureDir = filepath.Join("..", "..", "cmd", "attack-replay", "testdata", "atomics")

func importInto(t *testing.T, out string, opts Options) *Result {
	t.Helper()
	r, err := Import(fixtureDir, out, opts)
	if err != nil {
		t.Fatal(err)
	}
	if r.Failed() {
		t.Fatalf("fixture problems: %v", r.Problems)
	}
	return r
}

// readTree reads every file under dir, by path below it.
func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		files[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestImportLoads: the import of the fixture directory is a scenario library
// the loader accepts on its own, with one scenario per convertible test.
func TestImportLoads(t *testing.T) {
	out := filepath.Join(t.TempDir(), "atomics")
	r := importInto(t, out, Options{})
	var names []string
	for name := range readTree(t, out) {
		names = append(names, name)
	}
	sort.Strings(names)
	want := []string{"IMPORT.md", "command-and-control/T1105.yaml", "defense-impairment/T1685.006.yaml", "execution/T1053.003.yaml",
		"library.yaml", "privilege-escalation/T1548.001.yaml", "stealth/T1070.003.yaml"}
	if !reflect.DeepEqual(names, want) {
		t.Fatalf("files %q, want %q", names, want)
	}
	if c := r.Counts(); c != (Counts{Tests: 14, Imported: 9, NetworkSkipped: 2, Unsupported: 5}) {
		t.Errorf("counts %+v", c)
	}

	set, err := scenario.LoadDir(out, scenario.Options{})
	if err != nil {
		t.Fatalf("the import does not load: %v", err)
	}
	if set.Library == nil || set.Library.Name != "Atomic Red Team import" {
		t.Errorf("library %+v", set.Library)
	}
	byID := map[string]*scenario.Scenario{}
	for _, s := range set.Scenarios() {
		byID[s.ID] = s
	}
	if len(byID) != 9 {
		t.Errorf("%d scenarios loaded, want 9", len(byID))
	}
	s := byID["art-t1070-003-2-truncate-a-history-file-with-bash"]
	if s == nil {
		t.Fatalf("scenario of the bash test missing; have %v", byID)
	}
	if want := []string{"bash", "-c", "echo \"ls -la\" >> /root/.bash_history\ntruncate -s 0 /root/.bash_history"}; !reflect.DeepEqual(s.Steps[0].Exec, want) {
		t.Errorf("steps %q, want %q", s.Steps[0].Exec, want)
	}
	if len(s.Expect) != 1 || s.Expect[0].Rule != scenario.AnyRule || !reflect.DeepEqual(s.Expect[0].Tags, []string{"T1070.003"}) {
		t.Errorf("expect %+v", s.Expect)
	}
	if s := byID["art-t1070-002-1-empty-the-system-log"]; s == nil || s.Technique != "T1685.006" || s.Expect[0].Tags[0] != "T1685.006" {
		t.Errorf("renumbered technique: %+v", s)
	}
	if s := byID["art-t1105-1-download-a-script-with-curl"]; s == nil || !strings.HasPrefix(s.Skip, "reaches the network (command: a URL on downloads.example.org)") {
		t.Errorf("network test: %+v", s)
	}

	summary := string(readTree(t, out)["IMPORT.md"])
	for _, want := range []string{
		"14 atomic tests in 5 files: 9 imported (2 skipped",
		"| 3 Clear PowerShell history | | not imported: supported_platforms windows: not linux |",
		`| 2 Replace the crontab with a given command | | not imported: command uses input argument "command", which has no default |`,
		"| 1 Build a setuid binary from the atomics' source | | not imported: command needs PathToAtomicsFolder/T1548.001/src/shell.c",
	} {
		if !strings.Contains(summary, want) {
			t.Errorf("IMPORT.md lacks %q:\n%s", want, summary)
		}
	}
	if !strings.Contains(r.Summary(), `not imported: `+filepath.Join(fixtureDir, "T1070.003", "T1070.003.yaml")+`:45: atomic test 4 "Clear history by hand": executor manual`) {
		t.Errorf("summary:\n%s", r.Summary())
	}
}

// TestImportIdempotent: importing again, into the same directory or another
// one, writes the same bytes.
func TestImportIdempotent(t *testing.T) {
	first := filepath.Join(t.TempDir(), "a")
	importInto(t, first, Options{})
	before := readTree(t, first)
	importInto(t, first, Options{})
	if after := readTree(t, first); !reflect.DeepEqual(before, after) {
		t.Errorf("a re-import changed files: %v", differing(before, after))
	}
	other := filepath.Join(t.TempDir(), "elsewhere", "b")
	importInto(t, other, Options{})
	if got := readTree(t, other); !reflect.DeepEqual(before, got) {
		t.Errorf("an import elsewhere differs: %v", differing(before, got))
	}
	network := filepath.Join(t.TempDir(), "c")
	importInto(t, network, Options{AllowNetwork: true})
	if got := readTree(t, network); bytes.Contains(got["command-and-control/T1105.yaml"], []byte("skip:")) {
		t.Errorf("--allow-network kept the skip:\n%s", got["command-and-control/T1105.yaml"])
	}
}

func differing(a, b map[string][]byte) []string {
	var out []string
	for name := range a {
		if !bytes.Equal(a[name], b[name]) {
			out = append(out, name)
		}
	}
	for name := range b {
		if _, ok := a[name]; !ok {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// TestImportKeepsHandEdits: a benign twin in <technique>.local.yaml and a
// renamed library survive a re-import and load with the generated
// scenarios; ids stay those of the first import when upstream inserts a test.
func TestImportKeepsHandEdits(t *testing.T) {
	out := filepath.Join(t.TempDir(), "atomics")
	importInto(t, out, Options{})
	local := filepath.Join(out, "stealth", "T1070.003.local.yaml")
	twin := []byte("technique: T1070.003\ntactic: stealth\nscenarios:\n  - id: benign-read-history\n    benign: true\n    steps: [cat /etc/hostname]\n    forbid: [{rule: '*'}]\n")
	manifest := filepath.Join(out, "library.yaml")
	renamed := []byte("name: our atomics\n")
	for file, data := range map[string][]byte{local: twin, manifest: renamed} {
		if err := os.WriteFile(file, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// Upstream inserts a test before the others.
	src := filepath.Join(t.TempDir(), "atomics")
	if err := os.CopyFS(src, os.DirFS(fixtureDir)); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(src, "T1070.003", "T1070.003.yaml")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	inserted := "atomic_tests:\n- name: Unset HISTFILE\n  auto_generated_guid: 0f6b3a52-8d1e-4c07-9a7e-2b5d0c3e1a00\n  supported_platforms: [linux]\n  executor:\n    name: sh\n    command: |\n      unset HISTFILE\n"
	if err := os.WriteFile(file, bytes.Replace(data, []byte("atomic_tests:\n"), []byte(inserted), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Import(src, out, Options{}); err != nil {
		t.Fatal(err)
	}

	for file, want := range map[string][]byte{local: twin, manifest: renamed} {
		if got, _ := os.ReadFile(file); !bytes.Equal(got, want) {
			t.Errorf("%s changed:\n%s", file, got)
		}
	}
	set, err := scenario.LoadDir(out, scenario.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, f := range set.Files {
		if f.Technique == "T1070.003" {
			for _, s := range f.Scenarios {
				ids = append(ids, s.ID)
			}
		}
	}
	want := []string{"art-t1070-003-1-unset-histfile", "art-t1070-003-1-remove-the-shell-history-file",
		"art-t1070-003-2-truncate-a-history-file-with-bash", "benign-read-history"}
	if !reflect.DeepEqual(ids, want) {
		t.Errorf("ids %q, want %q", ids, want)
	}
}

// TestImportRemovesStale: a technique whose tests no longer convert loses
// the file an earlier import wrote for it; a file the import did not write
// stays.
func TestImportRemovesStale(t *testing.T) {
	out := filepath.Join(t.TempDir(), "atomics")
	importInto(t, out, Options{})
	src := filepath.Join(t.TempDir(), "atomics")
	if err := os.CopyFS(src, os.DirFS(fixtureDir)); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"T1105", "T1548.001"} {
		file := filepath.Join(src, id, id+".yaml")
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		data = bytes.ReplaceAll(bytes.ReplaceAll(data, []byte("[linux, macos]"), []byte("[windows]")), []byte("[linux]"), []byte("[windows]"))
		if err := os.WriteFile(file, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	own := filepath.Join(out, "privilege-escalation", "T1548.001.yaml")
	if err := os.WriteFile(own, []byte("# written by hand\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := Import(src, out, Options{})
	if err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(out, "command-and-control", "T1105.yaml")
	if !reflect.DeepEqual(r.Removed, []string{stale}) {
		t.Errorf("removed %q, want %q", r.Removed, stale)
	}
	if _, err := os.Stat(stale); err == nil {
		t.Errorf("%s is still there", stale)
	}
	if _, err := os.Stat(own); err != nil {
		t.Errorf("the hand-written file was removed: %v", err)
	}
}
