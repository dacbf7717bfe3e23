package mutate_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/attack-replay/attack-replay/harness/condition"
	"github.com/attack-replay/attack-replay/harness/mutate"
	"github.com/attack-replay/attack-replay/harness/rules"
)

const upstream = "../../fixtures/upstream-rules/falco-rules-5.0.0/"

// loadRules writes a rules file and loads it.
func loadRules(t testing.TB, text string) (*rules.Index, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	idx, err := rules.LoadPaths(path)
	if err != nil {
		t.Fatal(err)
	}
	return idx, path
}

// oneRule is a rules file with one rule of this condition, and the macros
// and lists given before it.
func oneRule(cond, before string) string {
	return before + "\n- rule: R\n  desc: d\n  condition: " + cond + "\n  output: out %proc.name\n  priority: WARNING\n  tags: [T1490]\n"
}

func generate(t *testing.T, text string, names ...string) *mutate.Set {
	t.Helper()
	idx, _ := loadRules(t, text)
	set, err := mutate.Generate(idx, names)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// changes lists "operator: condition" of every mutant of the first rule.
func changes(set *mutate.Set) []string {
	var out []string
	for _, m := range set.Rules[0].Mutants {
		out = append(out, string(m.Operator)+": "+m.Condition)
	}
	return out
}

func TestOperators(t *testing.T) {
	for name, tc := range map[string]struct {
		cond string
		want []string
	}{
		"or and and": {`proc.name = a or (proc.pname = b and user.uid != 0)`, []string{
			"drop-or: proc.pname = b and user.uid != 0",
			"drop-or: proc.name = a",
			"negate: proc.name != a or proc.pname = b and user.uid != 0",
			"swap-op: proc.name startswith a or proc.pname = b and user.uid != 0",
			"swap-op: proc.name contains a or proc.pname = b and user.uid != 0",
			"swap-op: proc.name endswith a or proc.pname = b and user.uid != 0",
			"drop-and: proc.name = a or user.uid != 0",
			"drop-and: proc.name = a or proc.pname = b",
			"negate: proc.name = a or proc.pname != b and user.uid != 0",
			"swap-op: proc.name = a or proc.pname startswith b and user.uid != 0",
			"swap-op: proc.name = a or proc.pname contains b and user.uid != 0",
			"swap-op: proc.name = a or proc.pname endswith b and user.uid != 0",
			// a number is neither swapped nor nearly missed
			"negate: proc.name = a or proc.pname = b and user.uid = 0",
		}},
		"list items and near misses": {`proc.name in (rm, "shred") and proc.args startswith "-rf"`, []string{
			"drop-and: proc.args startswith \"-rf\"",
			"drop-and: proc.name in (rm, \"shred\")",
			"negate: not proc.name in (rm, \"shred\") and proc.args startswith \"-rf\"",
			"drop-item: proc.name in (\"shred\") and proc.args startswith \"-rf\"",
			"drop-item: proc.name in (rm) and proc.args startswith \"-rf\"",
			"near-miss: proc.name in (\"r\", \"shred\") and proc.args startswith \"-rf\"",
			"near-miss: proc.name in (rm, \"shre\") and proc.args startswith \"-rf\"",
			"negate: proc.name in (rm, \"shred\") and not proc.args startswith \"-rf\"",
			"swap-op: proc.name in (rm, \"shred\") and proc.args contains \"-rf\"",
			"swap-op: proc.name in (rm, \"shred\") and proc.args endswith \"-rf\"",
			"swap-op: proc.name in (rm, \"shred\") and proc.args = \"-rf\"",
			"near-miss: proc.name in (rm, \"shred\") and proc.args startswith \"-r\"",
		}},
		"exists and enumerations": {`evt.type = execve and proc.env[HOME] exists`, []string{
			"drop-and: proc.env[HOME] exists",
			"drop-and: evt.type = execve",
			// evt.type is an enumeration: negated, never swapped or nearly missed
			"negate: evt.type != execve and proc.env[HOME] exists",
			"negate: evt.type = execve and not proc.env[HOME] exists",
		}},
	} {
		t.Run(name, func(t *testing.T) {
			got := changes(generate(t, oneRule(cond(tc.cond), "")))
			if !slices.Equal(got, tc.want) {
				t.Errorf("mutants of %s:\n got %q\nwant %q", tc.cond, got, tc.want)
			}
		})
	}
}

// cond quotes a condition for a YAML plain scalar.
func cond(c string) string { return "'" + strings.ReplaceAll(c, "'", "''") + "'" }

// A macro's clause is mutated inside the rule that uses it: the mutants name
// no macro or list, so loading them changes no other rule.
func TestExpansion(t *testing.T) {
	text := `
- list: shells
  items: [bash, sh]
- list: all_shells
  items: [shells, zsh]
- macro: spawned
  condition: evt.type = execve and evt.dir = <
- rule: Other
  desc: d
  condition: spawned and proc.name = cat
  output: o
  priority: INFO
` + oneRule("spawned and proc.name in (all_shells)", "")
	idx, path := loadRules(t, text)
	set, err := mutate.Generate(idx, []string{"R"})
	if err != nil {
		t.Fatal(err)
	}
	rm := set.Rules[0]
	if want := "(evt.type = execve and evt.dir = <) and proc.name in (bash, sh, zsh)"; rm.Expanded != want {
		t.Errorf("expanded condition:\n got %s\nwant %s", rm.Expanded, want)
	}
	var inMacro, inList int
	for _, m := range rm.Mutants {
		for _, name := range []string{"spawned", "shells", "all_shells"} {
			if strings.Contains(" "+m.Condition+" ", " "+name+" ") {
				t.Errorf("mutant %d still names %s: %s", m.N, name, m.Condition)
			}
		}
		switch m.In {
		case `macro "spawned"`:
			inMacro++
		case `list "shells"`, `list "all_shells"`:
			inList++
		}
	}
	if inMacro == 0 {
		t.Errorf("no mutant of the macro's clauses: %q", changes(set))
	}
	dropSpawned := slices.ContainsFunc(rm.Mutants, func(m mutate.Mutant) bool {
		return m.Operator == mutate.DropAnd && m.Clause == "spawned" && m.Condition == "proc.name in (bash, sh, zsh)"
	})
	if !dropSpawned {
		t.Errorf("dropping the macro is not shown by its name: %q", changes(set))
	}
	// A macro of one comparison changed in place shows the comparison.
	one := generate(t, oneRule("in_tmp", "- macro: in_tmp\n  condition: proc.cwd startswith /tmp/\n"))
	if m := one.Rules[0].Mutants[0]; m.Operator != mutate.Negate || m.Clause != "proc.cwd startswith /tmp/" || m.In != `macro "in_tmp"` || m.Span != (condition.Span{Pos: 0, End: 25}) {
		t.Errorf("first mutant of a one-comparison macro: %+v", m)
	}
	before, _ := idx.Rule("Other")
	dir := t.TempDir()
	if err := set.Screen([]string{path}, dir); err != nil {
		t.Fatal(err)
	}
	both, err := rules.LoadPaths(path, filepath.Join(dir, mutate.FileName))
	if err != nil {
		t.Fatal(err)
	}
	after, _ := both.Rule("Other")
	if before.Hash != after.Hash {
		t.Errorf("loading the mutants changed rule Other")
	}
	if got, want := len(both.Rules()), len(idx.Rules())+len(rm.Mutants); got != want {
		t.Errorf("%d rules once the mutants are loaded, want %d", got, want)
	}
	m, ok := both.Rule(rm.Mutants[0].Name())
	if !ok {
		t.Fatalf("mutant %q not in the loaded file", rm.Mutants[0].Name())
	}
	orig, _ := idx.Rule("R")
	if m.Output != strings.TrimSpace(orig.Output) || m.Priority != orig.Priority || !slices.Equal(m.Tags, orig.Tags) || !m.Enabled {
		t.Errorf("mutant rule %+v does not carry the original's output, priority, tags, enabled", m)
	}
}

func TestDedupe(t *testing.T) {
	set := generate(t, oneRule(cond(`proc.name in (a, a) or proc.name in (a, a)`), ""))
	rm := set.Rules[0]
	seen := map[string]bool{rm.Expanded: true}
	for i, m := range rm.Mutants {
		if seen[m.Condition] {
			t.Errorf("mutant %d repeats a condition: %s", m.N, m.Condition)
		}
		seen[m.Condition] = true
		if m.N != i+1 {
			t.Errorf("mutant %d numbered %d", i+1, m.N)
		}
	}
	// Dropping either `a` of either list gives one condition; dropping
	// either or-term gives another; each near miss is made twice.
	if rm.Duplicates == 0 {
		t.Errorf("no duplicate found among %q", changes(set))
	}
	// Deterministic: the same rules give the same mutants, numbered alike.
	again := generate(t, oneRule(cond(`proc.name in (a, a) or proc.name in (a, a)`), ""))
	if !slices.Equal(changes(again), changes(set)) || again.Rules[0].Mutants[0].Name() != rm.Mutants[0].Name() {
		t.Errorf("a second generation differs: %q, %q", changes(again), changes(set))
	}
}

func TestGenerateErrors(t *testing.T) {
	idx, _ := loadRules(t, oneRule("proc.name = a", ""))
	_, err := mutate.Generate(idx, []string{"r"})
	if err == nil || !strings.Contains(err.Error(), `no rule "r"`) || !strings.Contains(err.Error(), `did you mean "R"`) {
		t.Errorf("unknown rule: got %v", err)
	}
	idx, _ = loadRules(t, oneRule("nosuch and proc.name = a", ""))
	_, err = mutate.Generate(idx, nil)
	if err == nil || !strings.Contains(err.Error(), `undefined macro "nosuch"`) || !strings.Contains(err.Error(), "rules.yaml:") {
		t.Errorf("undefined macro: got %v", err)
	}
}

// Every condition of the upstream rules and of rules/ yields mutants that
// parse and that Falco's checks, as rules.Index.Check has them, accept.
func TestAllShippedRules(t *testing.T) {
	for _, paths := range [][]string{
		{upstream + "falco_rules.yaml", upstream + "falco-incubating_rules.yaml", upstream + "falco-sandbox_rules.yaml"},
		{"../../rules/"},
		{"../../fixtures/published/rules/"},
	} {
		idx, err := rules.LoadPaths(paths...)
		if err != nil {
			t.Fatal(err)
		}
		set, err := mutate.Generate(idx, nil)
		if err != nil {
			t.Fatal(err)
		}
		// Screen loads the mutants after the originals and checks them:
		// what Check refuses would be Rejected.
		if err := set.Screen(paths, t.TempDir()); err != nil {
			t.Fatal(err)
		}
		n, rulesWithout := 0, 0
		for _, rm := range set.Rules {
			for _, r := range rm.Rejected {
				t.Errorf("%v: rejected %s: %s", paths, r.Name(), r.Problem)
			}
			if len(rm.Mutants) == 0 {
				rulesWithout++
			}
			for _, m := range rm.Mutants {
				n++
				if _, err := condition.Parse(m.Condition); err != nil {
					t.Errorf("%s: %v", m.Name(), err)
				}
			}
		}
		if rulesWithout > 0 || n < 10*len(set.Rules) {
			t.Errorf("%v: %d mutants of %d rules, %d rules without any", paths, n, len(set.Rules), rulesWithout)
		}
		t.Logf("%v: %d mutants of %d rules", paths, n, len(set.Rules))
	}
}

func BenchmarkGenerateUpstream(b *testing.B) {
	idx, err := rules.LoadPaths(upstream+"falco_rules.yaml", upstream+"falco-incubating_rules.yaml", upstream+"falco-sandbox_rules.yaml")
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	for b.Loop() {
		set, err := mutate.Generate(idx, nil)
		if err != nil {
			b.Fatal(err)
		}
		n = len(set.Mutants())
	}
	b.ReportMetric(float64(n), "mutants")
}

// Falco pastes list items into the condition text, quoting an item with a
// blank unless it is quoted already (libs rule_loader_compiler.cpp,
// resolve_list and quote_item): a quoted item is a string without its quotes.
func TestExpansionReadsListItemsAsFalcoPastesThem(t *testing.T) {
	set := generate(t, oneRule("fd.name in (files)", `
- list: files
  items: [/etc/shadow, '"/etc/shadow-"', "'/etc/gshadow-'", my file]
`), "R")
	if want := `fd.name in (/etc/shadow, "/etc/shadow-", '/etc/gshadow-', "my file")`; set.Rules[0].Expanded != want {
		t.Errorf("expanded condition:\n got %s\nwant %s", set.Rules[0].Expanded, want)
	}
	e, err := condition.Parse(set.Rules[0].Expanded)
	if err != nil {
		t.Fatal(err)
	}
	var items []string
	for _, v := range e.(*condition.Compare).Right.(*condition.List).Items {
		items = append(items, v.Text)
	}
	if want := []string{"/etc/shadow", "/etc/shadow-", "/etc/gshadow-", "my file"}; !slices.Equal(items, want) {
		t.Errorf("items %q, want %q", items, want)
	}
}
