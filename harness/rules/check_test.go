package rules

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/attack-replay/attack-replay/harness/condition"
)

const upstream = "../../fixtures/upstream-rules/falco-rules-5.0.0/"

// cleanSets are rules sets that Falco loads: the upstream rules (the
// other files after falco_rules.yaml, as Falco loads them), the project's
// rules, and every rules file of the fixtures and test data.
var cleanSets = [][]string{
	{upstream + "falco_rules.yaml"},
	{upstream + "falco_rules.yaml", upstream + "falco-incubating_rules.yaml"},
	{upstream + "falco_rules.yaml", upstream + "falco-sandbox_rules.yaml"},
	{upstream + "falco_rules.yaml", upstream + "falco-deprecated_rules.yaml"},
	{upstream + "falco_rules.yaml", upstream + "falco-incubating_rules.yaml", upstream + "falco-sandbox_rules.yaml", upstream + "falco-deprecated_rules.yaml"},
	{"../../rules/"},
	{upstream + "falco_rules.yaml", "../../rules/"},
	{"../../fixtures/published/rules/"},
	{sampleHTTP}, {sampleGRPC},
	{sampleValidate + "good.yaml"}, {sampleValidate + "warn.yaml"}, {sampleValidate + "unknown_key.yaml"}, {sampleValidate + "cond_container43.yaml"},
	{"../falco/falcotest/falco_rules.yaml", "../session/testdata/imagerules/rules/"},
	{"../falco/testdata/rules/"},
	{"../falco/testdata/barrier-0.40.0.yaml"}, {"../falco/testdata/barrier-0.42.0.yaml"}, {"../falco/testdata/barrier-0.43.1.yaml"}, {"../falco/testdata/barrier-0.44.1.yaml"},
	{"../scenario/testdata/rules.yaml"},
	{"../session/testdata/rules/"},
	{"../../suites/techniques/testdata/rules/"},
	{"../../cmd/attack-replay/testdata/good/rules/"},
}

// TestCheckCleanSets: Falco loads these sets, so the check finds nothing in
// them, not even a warning.
func TestCheckCleanSets(t *testing.T) {
	for _, set := range cleanSets {
		x, err := LoadPaths(set...)
		if err != nil {
			t.Errorf("load %v: %v", set, err)
			continue
		}
		for _, p := range x.Check() {
			t.Errorf("%v: %s", set, p)
		}
	}
}

// TestConditionsRoundTrip parses every rule and macro condition of the
// clean sets, prints it and parses the print: the trees must be equal.
func TestConditionsRoundTrip(t *testing.T) {
	seen := map[string]bool{}
	for _, set := range cleanSets {
		x, err := LoadPaths(set...)
		if err != nil {
			t.Fatal(err)
		}
		var conds []string
		for _, r := range x.Rules() {
			conds = append(conds, r.Condition)
		}
		for _, m := range x.Macros() {
			conds = append(conds, m.Condition)
		}
		for _, c := range conds {
			if seen[c] {
				continue
			}
			seen[c] = true
			e, err := condition.Parse(c)
			if err != nil {
				t.Errorf("parse %q: %v", c, err)
				continue
			}
			out, err := condition.Print(e)
			if err != nil {
				t.Errorf("print %q: %v", c, err)
				continue
			}
			if e2, err := condition.Parse(out); err != nil || !condition.Equal(e, e2) {
				t.Errorf("%q printed as %q, which parses to another tree (%v)", c, out, err)
			}
		}
	}
	// The upstream set alone has 400 distinct conditions or so.
	if len(seen) < 400 {
		t.Errorf("only %d distinct conditions checked", len(seen))
	}
	t.Logf("%d distinct conditions round-tripped", len(seen))
}

// check loads files (name → content) in the order given and returns what
// Check finds, one line each, paths relative to the directory.
func check(t *testing.T, files map[string]string, order ...string) []string {
	t.Helper()
	dir := write(t, files)
	var paths []string
	for _, name := range order {
		paths = append(paths, filepath.Join(dir, name))
	}
	x, _ := LoadPaths(paths...)
	var out []string
	for _, p := range x.Check() {
		out = append(out, strings.TrimPrefix(p.String(), dir+string(filepath.Separator)))
	}
	return out
}

const ruleTail = "  output: \"x %proc.name\"\n  priority: WARNING\n"

func rule(name, cond string) string {
	return fmt.Sprintf("- rule: %s\n  desc: d\n  condition: %s\n%s", name, cond, ruleTail)
}

// TestCheckFindsEachClass: one problem of each kind, each reported once
// with its position and what to do.
func TestCheckFindsEachClass(t *testing.T) {
	for _, c := range []struct {
		name, yaml string
		want       []string
	}{
		{"unbalanced parenthesis", "- macro: m\n  condition: (evt.type = open\n" + rule("R", "m"),
			[]string{`f.yaml:2:14: macro "m": condition does not parse: unbalanced parenthesis: this "(" is never closed [LOAD_ERR_COMPILE_CONDITION]`}},
		{"undefined macro", "- macro: spawned_process\n  condition: evt.type = execve\n" + rule("R", "spawned_proces and proc.name = sh"),
			[]string{`f.yaml:5:14: rule "R": undefined macro "spawned_proces" (define it with - macro: spawned_proces, load the file that defines it, or fix the name; did you mean "spawned_process"?) [LOAD_ERR_VALIDATE]`}},
		{"unknown field", rule("R", "evt.type = execve and proc.nmae = sh"),
			[]string{`f.yaml:3:36: rule "R": unknown field "proc.nmae" for the syscall source (did you mean proc.name?) [LOAD_ERR_COMPILE_CONDITION]`}},
		{"unknown operator", rule("R", "evt.type = execve and proc.name !== sh"),
			[]string{`f.yaml:3:46: rule "R": condition does not parse: unknown operator "!==" (Falco's operators: exists <= < >= > == = != glob iglob contains icontains bcontains startswith bstartswith endswith regex intersects in pmatch) [LOAD_ERR_COMPILE_CONDITION]`}},
		{"list outside parentheses", "- list: shells\n  items: [bash, sh]\n" + rule("R", "evt.type = execve and proc.name = shells"),
			[]string{`f.yaml:5:48: rule "R": list "shells" after =: Falco replaces a list name with its 2 items separated by commas, which does not parse here (write in (shells)) [LOAD_ERR_COMPILE_CONDITION]`}},
		{"list as a condition", "- list: shells\n  items: [bash, sh]\n" + rule("R", "evt.type = execve and shells"),
			[]string{`f.yaml:5:36: rule "R": list "shells" stands where a condition is expected: Falco replaces it with its items (compare a field with it, e.g. proc.name in (shells)) [LOAD_ERR_COMPILE_CONDITION]`}},
		{"bad output token", "- rule: R\n  desc: d\n  condition: evt.type = execve\n  output: \"x %proc.nmae y\"\n  priority: WARNING\n",
			[]string{`f.yaml:4:14: rule "R": output token %proc.nmae names no field of the syscall source: Falco says "invalid formatting token" (did you mean %proc.name?) [LOAD_ERR_COMPILE_OUTPUT]`}},
		{"output ends with %", "- rule: R\n  desc: d\n  condition: evt.type = execve\n  output: x 100%\n  priority: WARNING\n",
			[]string{`f.yaml:4:16: rule "R": output ends with %: Falco wants a field after each % (give a field, e.g. %proc.name, or drop the %) [LOAD_ERR_COMPILE_OUTPUT]`}},
		{"macro defined later", "- macro: a\n  condition: b and evt.type = open\n- macro: b\n  condition: evt.dir = <\n" + rule("R", "a"),
			[]string{`f.yaml:2:14: macro "a": uses macro "b", which is defined after it: Falco resolves a macro's macros in load order, and reports this as "Undefined macro" (define "b" before "a", or in an earlier file) [LOAD_ERR_VALIDATE]`}},
		{"macro using itself", "- macro: m\n  condition: m or evt.type = open\n" + rule("R", "m"),
			[]string{`f.yaml:2:14: macro "m": uses itself: Falco cannot expand it (to extend "m", append to it with override: {condition: append}) [LOAD_ERR_VALIDATE]`}},
		{"argument not taken", rule("R", "evt.type = execve and proc.name[1] = sh"),
			[]string{`f.yaml:3:36: rule "R": field proc.name takes no argument in brackets (remove [1]) [LOAD_ERR_COMPILE_CONDITION]`}},
		{"argument missing", rule("R", "evt.type = open and evt.arg = x"),
			[]string{`f.yaml:3:34: rule "R": field evt.arg needs an argument (write evt.arg.NAME or evt.arg[ARG]) [LOAD_ERR_COMPILE_CONDITION]`}},
		{"and with nothing after it", rule("R", "evt.type = execve and not"),
			[]string{`f.yaml:3:36: rule "R": undefined macro "not" (define it with - macro: not, load the file that defines it, or fix the name; "not" needs a condition on each side) [LOAD_ERR_VALIDATE]`}},

		// What Falco takes: no problem.
		{"name in a list that is no list", rule("R", "evt.type = execve and proc.name in (not_a_list, bash) and proc.pname in other_values"), nil},
		{"list in a list", "- list: shells\n  items: [bash]\n" + rule("R", "evt.type = execve and proc.name in (shells, zsh) and proc.pname in shells and proc.aname = shells"), nil},
		{"container and k8s fields", rule("R", "evt.type = execve and container.id != host and k8s.ns.name exists and container.mount.dest[/etc] exists"), nil},
		{"transformers", rule("R", "evt.type = execve and tolower(proc.name) = sh and proc.name = val(proc.pname) and len(proc.args) > 3"), nil},
		{"output fields with arguments", "- rule: R\n  desc: d\n  condition: evt.type = open\n  output: \"*%proc.aname[2] %evt.arg.flags %12proc.name %container.info %proc.env[HOME]\"\n  priority: WARNING\n", nil},

		// Warnings.
		{"skip-if-unknown-filter", "- rule: R\n  desc: d\n  condition: evt.type = open and proc.nope = 1\n  output: x\n  priority: WARNING\n  skip-if-unknown-filter: true\n",
			[]string{`f.yaml:3:34: warning: rule "R": unknown field "proc.nope" for the syscall source (the rule has skip-if-unknown-filter: true, so Falco skips it; did you mean proc.name?) [LOAD_ERR_COMPILE_CONDITION]`}},
		{"other source", "- rule: R\n  desc: d\n  condition: ka.verb = create and nope_macro\n  output: x\n  priority: WARNING\n  source: k8s_audit\n",
			[]string{`f.yaml:3:35: warning: rule "R" (source k8s_audit): undefined macro "nope_macro" (define it with - macro: nope_macro, load the file that defines it, or fix the name) [LOAD_ERR_VALIDATE]`}},
		{"plugin fields", "- required_plugin_versions:\n    - name: k8smeta\n      version: 0.1.0\n" + rule("R", "evt.type = execve and k8smeta.pod.name = x"),
			[]string{`f.yaml:6:36: warning: rule "R": unknown field "k8smeta.pod.name" for the syscall source (the rules require plugin k8smeta, which may provide it: Falco decides when it loads the plugin) [LOAD_ERR_COMPILE_CONDITION]`}},
		{"macro of another source", "- macro: m\n  condition: ka.verb = create\n- rule: R\n  desc: d\n  condition: m\n  output: x\n  priority: INFO\n  source: k8s_audit\n", nil},
		{"macro of a skipping rule", "- macro: m\n  condition: proc.nope = 1\n- rule: R\n  desc: d\n  condition: evt.type = open and m\n  output: x\n  priority: INFO\n  skip-if-unknown-filter: true\n",
			[]string{`f.yaml:2:14: warning: macro "m": unknown field "proc.nope" for the syscall source (only rules with skip-if-unknown-filter: true use this macro, and Falco skips them; did you mean proc.name?) [LOAD_ERR_COMPILE_CONDITION]`}},
		{"plugin output fields", "- required_plugin_versions:\n    - name: k8smeta\n      version: 0.1.0\n- rule: R\n  desc: d\n  condition: evt.type = execve\n  output: \"pod %k8smeta.pod.name\"\n  priority: INFO\n",
			[]string{`f.yaml:7:16: warning: rule "R": output token %k8smeta.pod.name names no field of the syscall source: Falco says "invalid formatting token" (the rules require plugin k8smeta, which may provide it: Falco decides when it loads the plugin) [LOAD_ERR_COMPILE_OUTPUT]`}},
		{"unused macro", "- macro: m\n  condition: proc.nope = 1\n",
			[]string{`f.yaml:2:14: warning: macro "m": unknown field "proc.nope" for the syscall source (no rule uses this macro yet, so Falco does not check its fields; did you mean proc.name?) [LOAD_ERR_COMPILE_CONDITION]`}},
		{"list name in quotes", "- list: shells\n  items: [bash]\n" + rule("R", `evt.type = execve and proc.cmdline contains "run shells now"`),
			[]string{`f.yaml:5:58: warning: rule "R": quoted value "run shells now" holds the list name "shells" between blanks: Falco replaces list names even inside quotes (rename the list, or reword the value)`}},
	} {
		got := check(t, map[string]string{"f.yaml": c.yaml}, "f.yaml")
		if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
			t.Errorf("%s:\ngot  %q\nwant %q", c.name, got, c.want)
		}
	}
}

// TestCheckRecordedFalcoErrors: the rules that a real Falco refused
// (fixtures/falco/validate/*.out) are refused here too, at the same place.
func TestCheckRecordedFalcoErrors(t *testing.T) {
	for file, want := range map[string]string{
		// Falco: LOAD_ERR_COMPILE_CONDITION ... nonexistent field proc.nonexistent_field
		"bad_cond.yaml": `bad_cond.yaml:3:36: rule "Bad condition": unknown field "proc.nonexistent_field" for the syscall source (falco --list=syscall lists the fields) [LOAD_ERR_COMPILE_CONDITION]`,
		// Falco: LOAD_ERR_VALIDATE ... Undefined macro 'my_undefined_macro' used in filter.
		"bad_macro.yaml": `bad_macro.yaml:3:36: rule "Undefined macro": undefined macro "my_undefined_macro" (define it with - macro: my_undefined_macro, load the file that defines it, or fix the name) [LOAD_ERR_VALIDATE]`,
	} {
		x, err := LoadPaths(sampleValidate + file)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, p := range x.Check() {
			got = append(got, strings.TrimPrefix(p.String(), sampleValidate))
		}
		if len(got) != 1 || got[0] != want {
			t.Errorf("%s: %q\nwant %q", file, got, want)
		}
		out, err := os.ReadFile(sampleValidate + strings.TrimSuffix(file, ".yaml") + ".out")
		if err != nil {
			t.Fatal(err)
		}
		code := strings.TrimSuffix(strings.TrimPrefix(want[strings.LastIndex(want, "["):], "["), "]")
		if !strings.Contains(string(out), code) {
			t.Errorf("%s: Falco's recorded output does not carry the code %s", file, code)
		}
	}
}

// TestCheckPositions: a problem points at its token in the file whatever
// the style of the scalar the condition is written in, and in the file of
// an append.
func TestCheckPositions(t *testing.T) {
	for _, c := range []struct {
		name  string
		files map[string]string
		order []string
		token string // the problem's place: its first occurrence in the last file
	}{
		{"plain", map[string]string{"f.yaml": rule("R", "evt.type = execve and nope_macro")}, []string{"f.yaml"}, "nope_macro"},
		{"plain on lines of its own", map[string]string{"f.yaml": "- rule: R\n  desc: d\n  condition:\n    evt.type = execve\n      and proc.name = sh\n\n      and nope_macro\n" + ruleTail}, []string{"f.yaml"}, "nope_macro"},
		{"double-quoted", map[string]string{"f.yaml": `- rule: R
  desc: d
  condition: "evt.type = execve and proc.cmdline contains \"a\tb\" and
    proc.name !== sh"
` + ruleTail}, []string{"f.yaml"}, "!=="},
		{"single-quoted", map[string]string{"f.yaml": "- rule: R\n  desc: d\n  condition: 'evt.type = execve and proc.cmdline contains ''x'' and proc.nmae = sh'\n" + ruleTail}, []string{"f.yaml"}, "proc.nmae"},
		{"literal", map[string]string{"f.yaml": "- rule: R\n  desc: d\n  condition: |\n    evt.type = execve\n      and proc.name = sh\n    and (proc.pname = bash\n" + ruleTail}, []string{"f.yaml"}, "(proc.pname"},
		{"folded", map[string]string{"f.yaml": "- rule: R\n  desc: d\n  condition: >\n    evt.type = execve\n    and proc.name = sh\n\n    and proc.nmae = x\n" + ruleTail}, []string{"f.yaml"}, "proc.nmae"},
		{"folded strip", map[string]string{"f.yaml": "- macro: m\n  condition: >-\n    evt.type = execve and\n    proc.name in (a, b\n" + rule("R", "m")}, []string{"f.yaml"}, "(a, b"},
		{"override append", map[string]string{
			"a.yaml": rule("R", "evt.type = execve"),
			"b.yaml": "- rule: R\n  condition: and nope_macro\n  override:\n    condition: append\n",
		}, []string{"a.yaml", "b.yaml"}, "nope_macro"},
		{"macro append", map[string]string{
			"a.yaml": "- macro: m\n  condition: evt.type = execve\n" + rule("R", "m"),
			"b.yaml": "- macro: m\n  condition: or proc.nmae = x\n  append: true\n",
		}, []string{"a.yaml", "b.yaml"}, "proc.nmae"},
		{"output", map[string]string{"f.yaml": "- rule: R\n  desc: d\n  condition: evt.type = execve\n  output: >\n    shell run\n    (user=%user.nmae)\n  priority: INFO\n"}, []string{"f.yaml"}, "%user.nmae"},
	} {
		got := check(t, c.files, c.order...)
		last := c.order[len(c.order)-1]
		text := c.files[last]
		i := strings.Index(text, c.token)
		line := strings.Count(text[:i], "\n") + 1
		col := i - strings.LastIndex(text[:i], "\n")
		want := fmt.Sprintf("%s:%d:%d: ", last, line, col)
		if len(got) != 1 || !strings.HasPrefix(got[0], want) {
			t.Errorf("%s: %q\nwant one problem at %s", c.name, got, want)
		}
	}
}

// TestCheckNoCascade: a problem of a macro is reported at the macro once,
// however many rules use it, and a name used twice is reported once.
func TestCheckNoCascade(t *testing.T) {
	for _, c := range []struct {
		name, yaml string
		want       int
	}{
		{"parse error", "- macro: m\n  condition: (evt.type = open\n" + rule("A", "m") + rule("B", "m and m") + rule("C", "not m"), 1},
		{"unknown field", "- macro: m\n  condition: proc.nmae = x\n- macro: n\n  condition: m\n" + rule("A", "m") + rule("B", "n"), 1},
		{"undefined inside a macro", "- macro: m\n  condition: nope_macro\n" + rule("A", "m") + rule("B", "m"), 1},
		{"same name twice", rule("A", "nope_macro or nope_macro"), 1},
	} {
		got := check(t, map[string]string{"f.yaml": c.yaml}, "f.yaml")
		if len(got) != c.want {
			t.Errorf("%s: %d problems, want %d:\n%s", c.name, len(got), c.want, strings.Join(got, "\n"))
		}
		if c.want == 1 && len(got) == 1 && !strings.Contains(got[0], `macro "m"`) && c.name != "same name twice" {
			t.Errorf("%s: %s, want it at macro m", c.name, got[0])
		}
	}
}

// TestCheckResolvesAfterLoading: a rule sees the macros and lists of later
// files; a macro sees the macros defined before its last definition or
// append (Falco's visibility).
func TestCheckResolvesAfterLoading(t *testing.T) {
	files := map[string]string{
		"a.yaml": rule("R", "later_macro and proc.name in (later_list)") + "- macro: early\n  condition: evt.type = execve\n",
		"b.yaml": "- macro: later_macro\n  condition: early\n- list: later_list\n  items: [sh]\n" +
			"- macro: early\n  condition: and later_macro\n  override:\n    condition: append\n",
	}
	if got := check(t, files, "a.yaml", "b.yaml"); len(got) != 0 {
		t.Errorf("names of later files: %q, want no problem", got)
	}
	files["a.yaml"] = rule("R", "m") + "- macro: early\n  condition: evt.type = execve\n- macro: m\n  condition: later_macro\n"
	got := check(t, files, "a.yaml", "b.yaml")
	if len(got) != 1 || !strings.HasPrefix(got[0], `a.yaml:9:14: macro "m": uses macro "later_macro", which is defined after it`) {
		t.Errorf("a macro using a later macro: %q", got)
	}
}

// TestCheckAfterALoadError: when some item failed to load, a name no file
// defines may be that item's: it is a warning, not a second error.
func TestCheckAfterALoadError(t *testing.T) {
	got := check(t, map[string]string{
		"a.yaml": "- macro: m\n  condition: [not a string]\n",
		"b.yaml": rule("R", "m"),
	}, "a.yaml", "b.yaml")
	if len(got) != 1 || !strings.HasPrefix(got[0], `b.yaml:3:14: warning: rule "R": undefined macro "m"`) || !strings.Contains(got[0], "did not load completely") {
		t.Errorf("%q", got)
	}
}

// TestCheckAfterAnUnparsedFile: the macros of a file that is not valid YAML
// are unknown; the load reports that file once, and the rules using its
// macros add nothing (a missing macros file used to add one "undefined
// macro" per use).
func TestCheckAfterAnUnparsedFile(t *testing.T) {
	got := check(t, map[string]string{
		"a.yaml": "- macro: m\n  condition: evt.type = execve\n  - stray: [\n",
		"b.yaml": rule("R", "m") + rule("S", "m and not m"),
	}, "a.yaml", "b.yaml")
	if len(got) != 0 {
		t.Errorf("check after an unparsed macros file: %q, want nothing beyond the load's own problem", got)
	}
	got = check(t, map[string]string{
		"a.yaml": "- macro: m\n  condition: evt.type = execve\n  - stray: [\n",
		"b.yaml": rule("R", "other_macro"),
	}, "a.yaml", "b.yaml")
	if len(got) != 1 || !strings.Contains(got[0], `undefined macro "other_macro"`) {
		t.Errorf("a macro the unparsed file does not mention: %q, want it reported", got)
	}
}

// BenchmarkCheckUpstream: parse and check every rule and macro of the
// four upstream rules files (loaded once, outside the loop).
func BenchmarkCheckUpstream(b *testing.B) {
	x, err := LoadPaths(cleanSets[4]...)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if p := x.Check(); len(p) != 0 {
			b.Fatal(p[0])
		}
	}
}

// BenchmarkLoadAndCheckUpstream: what validate spends on the upstream
// files, from reading them to the last check.
func BenchmarkLoadAndCheckUpstream(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		x, err := LoadPaths(cleanSets[4]...)
		if err != nil {
			b.Fatal(err)
		}
		if p := x.Check(); len(p) != 0 {
			b.Fatal(p[0])
		}
	}
}
