package scenario

import (
	"flag"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// docExample is the complete example of docs/scenario-format.md: the
// contract other helpers write YAML against must load exactly as shown.
func docExample(t testing.TB) string {
	t.Helper()
	doc, err := os.ReadFile("../../docs/scenario-format.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindSubmatch(doc)
	if m == nil {
		t.Fatal("docs/scenario-format.md has no ```yaml example")
	}
	return string(m[1])
}

func TestGoldenDocExample(t *testing.T) {
	set, err := Load(mapFS(map[string]string{"scenarios/impact/T1490.yaml": docExample(t)}), "scenarios", Options{})
	if err != nil {
		t.Fatalf("the documented example does not load: %v", err)
	}
	if len(set.Warnings) != 0 {
		t.Errorf("warnings: %v", set.Warnings)
	}
	got := dump(set)
	const golden = "testdata/doc-example.golden"
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -run TestGoldenDocExample -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("loaded set differs from %s (rerun with -update after checking the change):\n%s", golden, diffLines(string(want), got))
	}
}

func TestDocExampleWithRules(t *testing.T) {
	// Against the test rules the example's rule names exist, so the only
	// remarks are about what the test rules do not carry.
	set, err := Load(mapFS(map[string]string{"scenarios/impact/T1490.yaml": docExample(t)}), "scenarios", Options{Rules: testRules(t)})
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Scenarios()) != 4 || len(set.Warnings) != 0 {
		t.Errorf("%d scenarios, warnings %v", len(set.Scenarios()), set.Warnings)
	}
}

// dump writes a Set in a stable, reviewable text form.
func dump(set *Set) string {
	var b strings.Builder
	for _, f := range set.Files {
		fmt.Fprintf(&b, "file %s technique=%s tactic=%s name=%q\n", f.Path, f.Technique, f.Tactic, f.Name)
		for _, s := range f.Scenarios {
			fmt.Fprintf(&b, "  scenario %q at %d:%d benign=%v user=%q workdir=%q timeout=%s\n", s.ID, s.Line, s.Column, s.Benign, s.User, s.Workdir, s.Timeout)
			fmt.Fprintf(&b, "    description=%q\n", s.Description)
			if s.Skip != "" || s.ForbidOthers {
				fmt.Fprintf(&b, "    skip=%q forbid_others=%v\n", s.Skip, s.ForbidOthers)
			}
			if v := s.Victim; v.Line > 0 {
				fmt.Fprintf(&b, "    victim at %d:%d image=%q add=%v drop=%v privileged=%v extra_hosts=%v read_only=%v network=%q\n",
					v.Line, v.Column, v.Image, v.CapAdd, v.CapDrop, v.Privileged, v.ExtraHosts, v.ReadOnly, v.Network)
			}
			fmt.Fprintf(&b, "    technique=%s tactic=%s technique_name=%q file=%s\n", s.Technique, s.Tactic, s.TechniqueName, s.File)
			keys := make([]string, 0, len(s.Env))
			for k := range s.Env {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				fmt.Fprintf(&b, "    env %s=%q\n", k, s.Env[k])
			}
			for _, phase := range []struct {
				name  string
				steps []Step
			}{{"setup", s.Setup}, {"step", s.Steps}, {"cleanup", s.Cleanup}} {
				for _, st := range phase.steps {
					fmt.Fprintf(&b, "    %s %q at %d:%d timeout=%s exit=%v tty=%v user=%q\n", phase.name, st.Command(), st.Line, st.Column, st.Timeout, st.Exit, st.TTY, st.User)
				}
			}
			for _, m := range s.Expect {
				b.WriteString("    expect " + dumpMatcher(m) + "\n")
			}
			for _, m := range s.Forbid {
				b.WriteString("    forbid " + dumpMatcher(m) + "\n")
			}
		}
	}
	return b.String()
}

func dumpMatcher(m Matcher) string {
	s := fmt.Sprintf("rule=%q at %d:%d min=%d", m.Rule, m.Line, m.Column, m.Min)
	if m.Max != nil {
		s += fmt.Sprintf(" max=%d", *m.Max)
	}
	if m.Priority != nil {
		s += " priority=" + m.Priority.String()
	}
	if m.Output != nil {
		s += " output=" + dumpText(*m.Output)
	}
	for _, f := range m.Fields {
		s += fmt.Sprintf(" field[%s at %d:%d]=%s", f.Field, f.Line, f.Column, dumpText(f.TextMatch))
	}
	if len(m.Tags) > 0 {
		s += " tags=" + strings.Join(m.Tags, ",")
	}
	return s
}

func dumpText(t TextMatch) string {
	s := fmt.Sprintf("%s(%q)", t.Kind, t.Value)
	if (t.Kind == Regex) != (t.Re != nil) {
		s += "!regex-not-compiled"
	}
	return s
}

func diffLines(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := 0; i < max(len(w), len(g)); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d:\n  want %s\n  got  %s\n", i+1, wl, gl)
		}
	}
	return b.String()
}
