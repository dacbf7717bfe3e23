package falco

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/attack-replay/attack-replay/harness/alert"
)

func TestExpandRules(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"b.yaml", "a.yml", "notes.txt", "c.yaml"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("[]\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "sub.yaml"), 0o755); err != nil {
		t.Fatal(err)
	}
	got, err := expandRules([]string{"testdata/rules/rm_rf.yaml", dir})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"testdata/rules/rm_rf.yaml", filepath.Join(dir, "a.yml"), filepath.Join(dir, "b.yaml"), filepath.Join(dir, "c.yaml")}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	for _, bad := range []string{"testdata/rules/absent.yaml", t.TempDir()} {
		if _, err := expandRules([]string{bad}); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("expandRules(%q) error = %v, want one naming the path", bad, err)
		}
	}
}

func TestCandidateRules(t *testing.T) {
	data, err := os.ReadFile("testdata/rules/recovery.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var c candidateRules
	if err := c.read("recovery.yaml", data); err != nil || !slices.Equal(c.names(), []string{"Disable recovery features", "Read shadow"}) {
		t.Errorf("got %q, %v", c.names(), err)
	}
	if err := c.read("bad.yaml", []byte("- rule: [unclosed\n")); err == nil || !strings.Contains(err.Error(), "bad.yaml") {
		t.Errorf("error = %v, want one naming the file", err)
	}

	// The last word of the candidate files on enabled wins, across files;
	// a rule of the image they override is enabled.
	c = candidateRules{}
	for _, f := range []string{`
- rule: A
  desc: a
  condition: evt.type = execve
  output: a
  priority: WARNING
- rule: B
  desc: b
  condition: evt.type = execve
  output: b
  priority: WARNING
  enabled: false
- rule: C
  desc: c
  condition: evt.type = execve
  output: c
  priority: WARNING
`, `
- rule: C
  enabled: false
- rule: Read sensitive file untrusted
  condition: and proc.name != cat
  override:
    condition: append
- rule: B
  enabled: true
  override:
    enabled: replace
- rule: Image rule
  enabled: false
  override:
    enabled: replace
`} {
		if err := c.read("candidate.yaml", []byte(f)); err != nil {
			t.Fatal(err)
		}
	}
	if want := []string{"A", "B", "Read sensitive file untrusted"}; !slices.Equal(c.names(), want) {
		t.Errorf("names = %q, want %q", c.names(), want)
	}
}

func TestBuildRuleSet(t *testing.T) {
	barrier := RuleSelection{Enable: true, Rule: alert.BarrierRule}
	disableAll := RuleSelection{Rule: "*"}
	for _, tc := range []struct {
		name      string
		opts      []Option
		files     []string // container paths, in load order
		selection []RuleSelection
	}{
		{
			name:  "candidates only: everything loaded runs",
			opts:  []Option{WithRules("testdata/rules/recovery.yaml")},
			files: []string{RulesDir + "/01-recovery.yaml", RulesDir + "/02-attack-replay-barrier.yaml"},
		},
		{
			name: "image rules: only the candidates' rules run",
			opts: []Option{WithImageRules(true), WithExtraRules("testdata/rules/macros.yaml"), WithRules("testdata/rules/recovery.yaml")},
			files: []string{ImageRulesFile, RulesDir + "/01-macros.yaml", RulesDir + "/02-recovery.yaml",
				RulesDir + "/03-attack-replay-barrier.yaml"},
			selection: []RuleSelection{disableAll, barrier, {Enable: true, Rule: "Disable recovery features"}, {Enable: true, Rule: "Read shadow"}},
		},
		{
			name:  "image rules and rules scenarios name: those are enabled too, once",
			opts:  []Option{WithImageRules(true), WithRules("testdata/rules/recovery.yaml"), WithAlsoEnabledRules("Read sensitive file untrusted", "Read shadow")},
			files: []string{ImageRulesFile, RulesDir + "/01-recovery.yaml", RulesDir + "/02-attack-replay-barrier.yaml"},
			selection: []RuleSelection{disableAll, barrier, {Enable: true, Rule: "Disable recovery features"}, {Enable: true, Rule: "Read shadow"},
				{Enable: true, Rule: "Read sensitive file untrusted"}},
		},
		{
			name:  "no selection: every loaded rule runs, nothing to add",
			opts:  []Option{WithRules("testdata/rules/recovery.yaml"), WithAlsoEnabledRules("Read sensitive file untrusted")},
			files: []string{RulesDir + "/01-recovery.yaml", RulesDir + "/02-attack-replay-barrier.yaml"},
		},
		{
			name:      "explicit names and tags",
			opts:      []Option{WithRules("testdata/rules/recovery.yaml", "testdata/rules/rm_rf.yaml"), WithEnabledRules("Read shadow"), WithEnabledTags("T1490")},
			files:     []string{RulesDir + "/01-recovery.yaml", RulesDir + "/02-rm_rf.yaml", RulesDir + "/03-attack-replay-barrier.yaml"},
			selection: []RuleSelection{disableAll, barrier, {Enable: true, Rule: "Read shadow"}, {Enable: true, Tag: "T1490"}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := defaultSettings()
			for _, o := range tc.opts {
				o(&s)
			}
			rs, err := buildRuleSet(s, v431)
			if err != nil {
				t.Fatal(err)
			}
			var files []string
			for _, f := range rs.files {
				files = append(files, f.container)
			}
			if !slices.Equal(files, tc.files) {
				t.Errorf("files = %q, want %q", files, tc.files)
			}
			if !reflect.DeepEqual(rs.selection, tc.selection) {
				t.Errorf("selection = %+v, want %+v", rs.selection, tc.selection)
			}
			var wantArgs []string
			for _, f := range tc.files {
				wantArgs = append(wantArgs, "-r", f)
			}
			if !slices.Equal(rs.args(), wantArgs) {
				t.Errorf("args = %q", rs.args())
			}
			last := rs.files[len(rs.files)-1]
			if string(last.data) != string(RenderBarrierRule(v431)) {
				t.Error("the barrier rule is not loaded last")
			}
		})
	}
	s := defaultSettings()
	WithRules("testdata/rules/rm_rf.yaml")(&s)
	rs, err := buildRuleSet(s, v431)
	if err != nil {
		t.Fatal(err)
	}
	if got := rs.hostPath(RulesDir + "/01-rm_rf.yaml"); got != "testdata/rules/rm_rf.yaml" {
		t.Errorf("hostPath = %q", got)
	}
	if got := rs.hostPath(ImageRulesFile); got != ImageRulesFile {
		t.Errorf("hostPath(image rules) = %q", got)
	}
}
