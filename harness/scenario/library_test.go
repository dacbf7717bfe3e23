package scenario

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const libraryYAML = "name: falcosecurity/rules upstream\ndescription: scenarios for upstream rules\n"

func cred(id string) string {
	return "technique: T1003.008\ntactic: credential-access\nscenarios:\n  - id: " + id + "\n    steps: [cat /etc/shadow]\n    expect: [{rule: '*'}]\n"
}

// TestLoadNestedLibrary: a directory holding library.yaml is a library of its
// own. Loading its parent leaves it out and says how to load it; loading it,
// or a directory inside it, reads its maturity groups.
func TestLoadNestedLibrary(t *testing.T) {
	files := map[string]string{
		"scenarios/credential-access/T1003.008.yaml":                     cred("own"),
		"scenarios/upstream/library.yaml":                                libraryYAML,
		"scenarios/upstream/stable/credential-access/T1003.008.yaml":     cred("stable-shadow"),
		"scenarios/upstream/incubating/credential-access/T1003.008.yaml": cred("incubating-shadow"),
		// Ids are unique within one load only: the library may reuse one.
		"scenarios/upstream/sandbox/credential-access/T1003.008.yaml": cred("own"),
	}
	ids := func(set *Set) []string {
		var out []string
		for _, s := range set.Scenarios() {
			out = append(out, s.ID)
		}
		return out
	}

	set, lines := loadLines(t, files, Options{})
	if len(lines) != 0 || !reflect.DeepEqual(ids(set), []string{"own"}) || set.Library != nil {
		t.Fatalf("parent load: ids %v, library %v, problems %q", ids(set), set.Library, lines)
	}
	want := []Library{{Dir: "scenarios/upstream", Name: "falcosecurity/rules upstream", Description: "scenarios for upstream rules"}}
	if !reflect.DeepEqual(set.Skipped, want) {
		t.Fatalf("skipped %+v, want %+v", set.Skipped, want)
	}
	if note := set.Skipped[0].Note(); note != `scenarios/upstream: the scenario library "falcosecurity/rules upstream" is not loaded with its parent directory: load it on its own, with --scenarios scenarios/upstream (make: SCENARIOS=scenarios/upstream)` {
		t.Errorf("note = %s", note)
	}

	set, err := Load(mapFS(files), "scenarios/upstream", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(set); !reflect.DeepEqual(got, []string{"incubating-shadow", "own", "stable-shadow"}) {
		t.Errorf("library load: ids %v", got)
	}
	if set.Library == nil || set.Library.Name != "falcosecurity/rules upstream" || len(set.Skipped) != 0 {
		t.Errorf("library = %+v, skipped %v", set.Library, set.Skipped)
	}

	for _, dir := range []string{"scenarios/upstream/stable", "scenarios/upstream/stable/credential-access"} {
		set, err := Load(mapFS(files), dir, Options{})
		if err != nil || !reflect.DeepEqual(ids(set), []string{"stable-shadow"}) {
			t.Errorf("load %s: ids %v, %v", dir, ids(set), err)
		}
	}
}

func TestLoadLibraryProblems(t *testing.T) {
	for _, c := range []struct {
		manifest string
		want     []string
	}{
		{"name: x\nowner: me\n", []string{`scenarios/upstream/library.yaml:2:1: unknown key "owner" in a library file (known keys: name, description)`}},
		{"description: d\n", []string{`scenarios/upstream/library.yaml:1:1: missing key "name" (give the library's name, like "falcosecurity/rules 5.0.0 upstream library")`}},
		{"name: ' '\n", []string{`scenarios/upstream/library.yaml:1:7: name is empty (give the library's name, like "falcosecurity/rules 5.0.0 upstream library")`}},
		{"[a\n", []string{`scenarios/upstream/library.yaml:1:1: YAML syntax: did not find expected ',' or ']' (fix the YAML)`}},
	} {
		files := map[string]string{"scenarios/upstream/library.yaml": c.manifest, "scenarios/upstream/stable/credential-access/T1003.008.yaml": cred("a")}
		for _, dir := range []string{"scenarios", "scenarios/upstream"} {
			_, got := loadLines(t, files, Options{})
			if dir == "scenarios/upstream" {
				got = nil
				_, err := Load(mapFS(files), dir, Options{})
				if le, ok := err.(*LoadError); ok {
					for _, p := range le.Problems {
						got = append(got, p.String())
					}
				}
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("load %s with library.yaml %q:\n%s\nwant\n%s", dir, c.manifest, strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
		}
	}
}

// TestLoadPlacementInGroups: under a group the parent directory must still
// be the tactic, with today's messages and the group kept in the hint.
func TestLoadPlacementInGroups(t *testing.T) {
	files := map[string]string{
		"scenarios/library.yaml":                           libraryYAML,
		"scenarios/stable/persistence/T1003.008.yaml":      cred("a"),
		"scenarios/stable/T1003.008.yaml":                  cred("b"),
		"scenarios/stable/credential-access/shadow.yaml":   cred("c"),
		"scenarios/stable/credential-access/T1003.008.yml": cred("d"),
	}
	_, got := loadLines(t, files, Options{})
	want := []string{
		`scenarios/stable/T1003.008.yaml:2:9: file is not in a tactic directory but its tactic is credential-access (move it to scenarios/stable/credential-access/T1003.008.yaml)`,
		`scenarios/stable/credential-access/shadow.yaml:1:12: file name "shadow.yaml" does not match its technique T1003.008 (rename it to scenarios/stable/credential-access/T1003.008.yaml)`,
		`scenarios/stable/persistence/T1003.008.yaml:2:9: file is under "stable/persistence/" but its tactic is credential-access (move it to scenarios/stable/credential-access/T1003.008.yaml)`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("problems:\n%s\n\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestLoadDirOfATactic loads a tactic directory itself from the OS: its
// files lie in their tactic, and the hint for a stray one leads next door.
func TestLoadDirOfATactic(t *testing.T) {
	root := t.TempDir()
	for rel, body := range map[string]string{
		"credential-access/T1003.008.yaml": cred("a"),
		"persistence/T1003.008.yaml":       cred("b"),
	} {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if set, err := LoadDir(filepath.Join(root, "credential-access"), Options{}); err != nil || len(set.Scenarios()) != 1 {
		t.Errorf("load the tactic directory: %v", err)
	}
	_, err := LoadDir(filepath.Join(root, "persistence"), Options{})
	want := filepath.Join(root, "persistence", "T1003.008.yaml") + `:2:9: file is under "persistence/" but its tactic is credential-access (move it to ` +
		filepath.Join(root, "credential-access", "T1003.008.yaml") + ")"
	if le, ok := err.(*LoadError); !ok || len(le.Problems) != 1 || le.Problems[0].String() != want {
		t.Errorf("load a wrong tactic directory: %v\nwant %s", err, want)
	}
}
