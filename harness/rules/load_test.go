package rules

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// Recorded samples (copied unchanged into fixtures/falco, see its README.md).
const (
	sampleHTTP     = "../../fixtures/falco/rules-used-for-http-0.40.0.yaml"
	sampleGRPC     = "../../fixtures/falco/rules-used-for-grpc.yaml"
	sampleValidate = "../../fixtures/falco/validate/"
)

// write puts files into a fresh directory and returns it.
func write(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// problems returns the problem lines of a load error, with dir stripped.
func problems(t *testing.T, err error, dir string) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var le *LoadError
	if !errors.As(err, &le) {
		t.Fatalf("error %v is not a *LoadError", err)
	}
	out := make([]string, len(le.Problems))
	for i, p := range le.Problems {
		out[i] = strings.TrimPrefix(p.String(), dir+string(filepath.Separator))
	}
	return out
}

func warnings(x *Index, dir string) []string {
	var out []string
	for _, w := range x.Warnings() {
		if !w.Warning {
			out = append(out, "not marked as a warning: "+w.String())
		}
		out = append(out, strings.TrimPrefix(w.String(), dir+string(filepath.Separator)))
	}
	return out
}

func ruleNames(x *Index) []string {
	var out []string
	for _, r := range x.Rules() {
		out = append(out, r.Name)
	}
	return out
}

func TestLoadRecordedSample(t *testing.T) {
	x, err := LoadPaths(sampleHTTP)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Disable recovery features", "Any rm", "attack-replay barrier"}
	if got := ruleNames(x); !reflect.DeepEqual(got, want) {
		t.Fatalf("rules = %q, want %q", got, want)
	}
	r, ok := x.Rule("Disable recovery features")
	if !ok {
		t.Fatal("rule missing")
	}
	if r.Priority != Critical || !r.Enabled || r.Source != "syscall" {
		t.Errorf("rule = %+v", r)
	}
	if want := []string{"T1490", "inhibit_system_recovery", "mitre_impact"}; !reflect.DeepEqual(r.Tags, want) {
		t.Errorf("tags = %q, want %q (sorted, as Falco holds them)", r.Tags, want)
	}
	if r.Pos != (Position{File: sampleHTTP, Line: 3, Column: 3}) {
		t.Errorf("pos = %v", r.Pos)
	}
	if !strings.Contains(r.Condition, `and user.name != "root"`) || !strings.HasPrefix(r.Output, "Disabling recovery features") {
		t.Errorf("condition/output not kept: %q / %q", r.Condition, r.Output)
	}
	if got := x.Macros(); len(got) != 1 || got[0].Name != "spawned_process" || got[0].Pos.Line != 1 {
		t.Errorf("macros = %+v", got)
	}
	if len(x.Warnings()) != 0 {
		t.Errorf("warnings on a clean file: %v", x.Warnings())
	}
	b, _ := os.ReadFile(sampleHTTP)
	sum := sha256.Sum256(b)
	if f := x.Files(); len(f) != 1 || f[0].SHA256 != hex.EncodeToString(sum[:]) || f[0].Path != sampleHTTP {
		t.Errorf("files = %+v", f)
	}
}

func TestLoadRedefinitionReplacesInPlace(t *testing.T) {
	// A second full definition replaces the rule but keeps its place in
	// Falco's order (rule_loader_collector.cpp define_info).
	dir := write(t, map[string]string{
		"a.yaml": "- rule: A\n  desc: d\n  condition: c\n  output: o\n  priority: INFO\n  tags: [x]\n- rule: B\n  desc: d\n  condition: c\n  output: o\n  priority: INFO\n",
		"b.yaml": "- rule: A\n  desc: new\n  condition: c2\n  output: o\n  priority: ERROR\n",
	})
	x, err := LoadPaths(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := ruleNames(x); !reflect.DeepEqual(got, []string{"A", "B"}) {
		t.Errorf("order = %q", got)
	}
	a, _ := x.Rule("A")
	if a.Desc != "new" || a.Priority != Error || a.Tags != nil || filepath.Base(a.Pos.File) != "b.yaml" {
		t.Errorf("A = %+v", a)
	}
	want := []string{`b.yaml:1:3: warning: rule "A": redefines the rule at ` + filepath.Join(dir, "a.yaml") + `:1:3, replacing all of it (use override: to change only some keys)`}
	if got := warnings(x, dir); !reflect.DeepEqual(got, want) {
		t.Errorf("warnings = %q, want %q", got, want)
	}
}

// TestLoadYAMLErrorLine breaks the shipped macros file on one line and
// checks that the problem names that line, not yaml.v3's (the start of the
// enclosing item, 0-based).
func TestLoadYAMLErrorLine(t *testing.T) {
	b, err := os.ReadFile("../../rules/00-macros.yaml")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	at := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, "  items:") }) + 1
	lines = slices.Insert(lines, at, "  - stray")
	dir := write(t, map[string]string{"00-macros.yaml": strings.Join(lines, "\n")})
	_, err = LoadPaths(dir)
	want := []string{fmt.Sprintf("00-macros.yaml:%d:1: YAML syntax: did not find expected key (fix the YAML; Falco would refuse the whole file)", at+1)}
	if got := problems(t, err, dir); !reflect.DeepEqual(got, want) {
		t.Errorf("problems = %q, want %q", got, want)
	}
}

// TestLoadUnparsedFileIsOneProblem: a later file appending to what a file
// that did not parse defines is not reported as well; appending to what no
// file defines still is.
func TestLoadUnparsedFileIsOneProblem(t *testing.T) {
	dir := write(t, map[string]string{
		"a.yaml": "- macro: shells\n  condition: proc.name in (bash, sh)\n- rule: Shell\n  desc: [unclosed\n",
		"b.yaml": "- macro: shells\n  condition: or proc.name = zsh\n  override: {condition: append}\n" +
			"- rule: Shell\n  condition: and shells\n  override: {condition: append}\n" +
			"- rule: Other\n  condition: and shells\n  override: {condition: append}\n",
	})
	_, err := LoadPaths(dir)
	want := []string{
		"a.yaml:4:1: YAML syntax: did not find expected ',' or ']' (fix the YAML; Falco would refuse the whole file)",
		`b.yaml:7:3: rule "Other": overrides a rule that is not defined before it (define the rule first, or load its file earlier)`,
	}
	if got := problems(t, err, dir); !reflect.DeepEqual(got, want) {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestLoadFalcoValidateSamples(t *testing.T) {
	// What `falco -V` said about each file (fixtures/falco/validate/*.out):
	// Invalid for missing_field, yaml_err and bad_syntax; the others load
	// (bad_cond and bad_macro fail only in the condition compiler, which
	// this index does not imitate).
	cases := map[string][]string{
		"good.yaml":             nil,
		"warn.yaml":             nil,
		"cond_container43.yaml": nil,
		"bad_cond.yaml":         nil,
		"bad_macro.yaml":        nil,
		"unknown_key.yaml":      nil,
		"missing_field.yaml": {
			`missing_field.yaml:1:3: rule "Missing output": missing key "output" (a rule needs desc, condition, output and priority; to change an existing rule use override:)`,
		},
		"yaml_err.yaml": {
			`yaml_err.yaml:3:1: YAML syntax: mapping values are not allowed in this context (fix the YAML; Falco would refuse the whole file)`,
		},
		"bad_syntax.yaml": {
			`bad_syntax.yaml:4:1: YAML syntax: found unexpected end of stream (fix the YAML; Falco would refuse the whole file)`,
		},
	}
	for name, want := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := LoadPaths(sampleValidate + name)
			if got := problems(t, err, strings.TrimSuffix(sampleValidate, "/")); !reflect.DeepEqual(got, want) {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
	x, _ := LoadPaths(sampleValidate + "unknown_key.yaml")
	if got, want := warnings(x, strings.TrimSuffix(sampleValidate, "/")), []string{
		`unknown_key.yaml:6:3: warning: rule "R": unknown key "bogus_key" (Falco's schema check warns and ignores it)`,
	}; !reflect.DeepEqual(got, want) {
		t.Errorf("warnings = %q, want %q", got, want)
	}
}

func TestLoadDirectoryOrder(t *testing.T) {
	dir := write(t, map[string]string{
		"b.yaml":          "- rule: B\n  desc: d\n  condition: c\n  output: o\n  priority: INFO\n",
		"a.yml":           "- rule: A\n  desc: d\n  condition: c\n  output: o\n  priority: debug\n",
		"c.yaml":          "- rule: A\n  override: {priority: replace}\n  priority: ERROR\n",
		"README.md":       "# notes\n",
		"empty.txt":       "",
		"nested/x.yaml":   "- rule: Nested\n",
		"0-empty.yaml":    "",
		"1-comments.yaml": "# only a comment\n",
	})
	x, err := LoadPaths(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := ruleNames(x); !reflect.DeepEqual(got, []string{"A", "B"}) {
		t.Errorf("rules = %q", got)
	}
	if a, _ := x.Rule("A"); a.Priority != Error || len(a.Changes) != 1 || filepath.Base(a.Changes[0].File) != "c.yaml" {
		t.Errorf("A = %+v: the override in c.yaml must apply after a.yml", a)
	}
	var files []string
	for _, f := range x.Files() {
		files = append(files, filepath.Base(f.Path))
	}
	if want := []string{"0-empty.yaml", "1-comments.yaml", "a.yml", "b.yaml", "c.yaml"}; !reflect.DeepEqual(files, want) {
		t.Errorf("files = %q, want %q", files, want)
	}
	want := []string{
		"README.md: warning: not a .yaml file, skipped here; Falco reads every file of a rules directory and would try to load it (move it out of " + dir + ")",
		"nested: warning: subdirectory not read: Falco reads only the files directly in a rules directory (move its files up, or pass it as a path of its own)",
	}
	if got := warnings(x, dir); !reflect.DeepEqual(got, want) {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestLoadOverridesAndAppends(t *testing.T) {
	dir := write(t, map[string]string{
		"1-base.yaml": `
- list: shells
  items: [bash, sh]
- macro: spawned
  condition: evt.type = execve
- rule: Shell
  desc: a shell
  condition: spawned and proc.name in (shells)
  output: shell %proc.name
  priority: WARNING
  tags: [T1059, mitre_execution]
  exceptions:
    - name: known
      fields: [proc.pname]
      values: [[cron]]
- rule: Quiet
  desc: q
  condition: evt.type = open
  output: q
  priority: DEBUG
  enabled: false
`,
		"2-local.yaml": `
- list: shells
  items: [zsh]
  append: true
- macro: spawned
  condition: and evt.dir = <
  override:
    condition: append
- rule: Shell
  condition: and not user.name = root
  output: (user=%user.name)
  tags: [container]
  exceptions:
    - name: known
      values: [[sshd]]
    - name: extra
      fields: proc.name
      comps: in
      values: [ls]
  override:
    condition: append
    output: append
    tags: append
    exceptions: append
- rule: Shell
  priority: CRITICAL
  enabled: false
  override:
    priority: replace
    enabled: replace
- rule: Shell
  condition: or proc.name = fish
  append: true
- rule: Quiet
  enabled: true
`,
	})
	x, err := LoadPaths(dir)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := x.Rule("Shell")
	if want := "spawned and proc.name in (shells) and not user.name = root or proc.name = fish"; r.Condition != want {
		t.Errorf("condition = %q, want %q", r.Condition, want)
	}
	if want := "shell %proc.name (user=%user.name)"; r.Output != want {
		t.Errorf("output = %q, want %q", r.Output, want)
	}
	if want := []string{"T1059", "container", "mitre_execution"}; !reflect.DeepEqual(r.Tags, want) {
		t.Errorf("tags = %q, want %q", r.Tags, want)
	}
	if r.Priority != Critical || r.Enabled {
		t.Errorf("priority %v enabled %v, want Critical and disabled", r.Priority, r.Enabled)
	}
	if len(r.Changes) != 3 || r.Pos.Line != 6 {
		t.Errorf("pos %v changes %v", r.Pos, r.Changes)
	}
	if len(r.Exceptions) != 2 || exceptionName(r.Exceptions[0]) != "known" || exceptionName(r.Exceptions[1]) != "extra" {
		t.Fatalf("exceptions = %v", r.Exceptions)
	}
	if vals := mapValue(r.Exceptions[0], "values"); vals == nil || len(vals.Content) != 2 {
		t.Errorf("known exception values = %v, want cron and sshd", vals)
	}
	if q, _ := x.Rule("Quiet"); !q.Enabled {
		t.Error("Quiet was enabled by an enabled-only item")
	}
	if l := x.Lists(); len(l) != 1 || !reflect.DeepEqual(l[0].Items, []string{"bash", "sh", "zsh"}) {
		t.Errorf("lists = %+v", l)
	}
	if m := x.Macros(); len(m) != 1 || m[0].Condition != "evt.type = execve and evt.dir = <" {
		t.Errorf("macros = %+v", m)
	}
	got := warnings(x, dir)
	want := []string{
		`2-local.yaml:4:3: warning: list "shells": append: true is deprecated in Falco (use override: {items: append})`,
		`2-local.yaml:33:3: warning: rule "Shell": append: true is deprecated in Falco (use override: {condition: append})`,
		`2-local.yaml:35:3: warning: rule "Quiet": an item with only rule and enabled is deprecated in Falco (use override: {enabled: replace})`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestLoadReplaceOverrides(t *testing.T) {
	dir := write(t, map[string]string{"r.yaml": `
- list: l
  items: [a]
- list: l
  items: [b]
  override: {items: replace}
- macro: m
  condition: x
- macro: m
  condition: y
  override: {condition: replace}
- rule: R
  desc: d
  condition: c
  output: o
  priority: NOTICE
  tags: [a, b]
- rule: R
  desc: new desc
  condition: m
  tags: [c]
  warn_evttypes: false
  override: {desc: replace, condition: replace, tags: replace, warn_evttypes: replace}
`})
	x, err := LoadPaths(dir)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := x.Rule("R")
	if r.Desc != "new desc" || r.Condition != "m" || !reflect.DeepEqual(r.Tags, []string{"c"}) || r.Output != "o" {
		t.Errorf("R = %+v", r)
	}
	if l := x.Lists(); l[0].Items[0] != "b" || len(l[0].Items) != 1 {
		t.Errorf("list = %+v", l)
	}
	if m := x.Macros(); m[0].Condition != "y" {
		t.Errorf("macro = %+v", m)
	}
}

func TestLoadProblems(t *testing.T) {
	dir := write(t, map[string]string{
		"a.yaml": `
- rule: Good
  desc: d
  condition: c
  output: o
  priority: WARNING
- rule: Bad priority
  desc: d
  condition: c
  output: o
  priority: HIGH
- rul: Typo
  desc: d
- rule: Missing two
  desc: d
  condition: c
- rule: Nope
  condition: and x
  override: {condition: append}
- rule: Ghost
  condition: and x
  append: true
- rule: Good
  output: extra
  override: {output: merge}
- rule: Good
  source: k8s_audit
  priority: DEBUG
  override: {source: replace}
- rule: Good
  desc: d
  override: {desc: replace, output: append}
- rule: Good
  desc: d
  output: o
  override: {desc: replace}
- rule: Good
  condition: x
  append: true
  override: {condition: append}
- rule: Good
  tags: [x]
- rule: Unknown enabled
  enabled: false
- macro: never
  condition: x
  append: true
- list: lst
  items: x
- rule: Good
  append: true
- just a string
- rule: Bad types
  desc: [d]
  condition: c
  output: o
  priority: ERROR
  enabled: maybe
  tags: [[a]]
- rule: Good
  desc: d
  condition: c
  output: o
  priority: DEBUG
  source: k8s_audit
- rule: Dup
  rule: Dup
`,
		"b.yaml": "rule: not a list\n",
		"c.yaml": "- rule: X\n  desc: \"unterminated\n",
	})
	x, err := LoadPaths(dir, filepath.Join(dir, "missing.yaml"))
	got := problems(t, err, dir)
	// missing.yaml could define any rule: none is reported missing.
	for name, want := range map[string]bool{"Bad priority": true, "Missing two": true, "Bad types": true, "Good": false, "Nope": true, "Typo": true} {
		if x.Failed(name) != want {
			t.Errorf("Failed(%q) = %v, want %v", name, !want, want)
		}
	}
	// Without it, only what c.yaml (which does not parse) names may exist.
	x, _ = LoadPaths(dir)
	for name, want := range map[string]bool{"X": true, "Nope": false, "Typo": false, "Good": false} {
		if x.Failed(name) != want {
			t.Errorf("without missing.yaml: Failed(%q) = %v, want %v", name, !want, want)
		}
	}
	if got, want := x.Unread(), []string{filepath.Join(dir, "c.yaml")}; !reflect.DeepEqual(got, want) {
		t.Errorf("Unread() = %q, want %q", got, want)
	}
	want := []string{
		`a.yaml:11:13: rule "Bad priority": unknown priority "HIGH" (use one of EMERGENCY, ALERT, CRITICAL, ERROR, WARNING, NOTICE, INFORMATIONAL, DEBUG)`,
		`a.yaml:12:3: item has none of the keys rule, macro, list, required_engine_version, required_plugin_versions; "rul" looks like "rule" (Falco ignores it: name what it defines)`,
		`a.yaml:14:3: rule "Missing two": missing key "output" (a rule needs desc, condition, output and priority; to change an existing rule use override:)`,
		`a.yaml:14:3: rule "Missing two": missing key "priority" (a rule needs desc, condition, output and priority; to change an existing rule use override:)`,
		`a.yaml:17:3: rule "Nope": overrides a rule that is not defined before it (define the rule first, or load its file earlier)`,
		`a.yaml:20:3: rule "Ghost": appends to a rule that is not defined before it (define the rule first, or load its file earlier)`,
		`a.yaml:25:22: rule "Good": override of "output" must be append or replace, not "merge"`,
		`a.yaml:28:3: rule "Good": key "priority" is set but override does not say append or replace for it (add priority: append or priority: replace under override)`,
		`a.yaml:29:14: rule "Good": key "source" cannot be replaced (replaceable: capture, capture_duration, capture_events, capture_filesize, condition, desc, enabled, exceptions, output, priority, skip-if-unknown-filter, tags, warn_evttypes)`,
		`a.yaml:32:29: rule "Good": override says append "output" but the item has no output key (add it, or drop it from override)`,
		`a.yaml:35:3: rule "Good": key "output" is set but override does not say append or replace for it (add output: append or output: replace under override)`,
		`a.yaml:39:3: rule "Good": append: true and override cannot be used together (keep override)`,
		`a.yaml:41:3: rule "Good": item has none of condition, output, desc, priority or enabled (define the rule fully, or use override: to change an existing one)`,
		`a.yaml:43:3: rule "Unknown enabled": sets enabled on a rule that is not defined before it (define the rule first, or load its file earlier)`,
		`a.yaml:45:3: macro "never": appends to a macro that is not defined before it (define the macro first, or load its file earlier)`,
		`a.yaml:49:10: list "lst": items must be a list of strings, like [a, b]`,
		`a.yaml:50:3: rule "Good": append has nothing to append (give condition or exceptions)`,
		`a.yaml:52:3: each item must be a mapping (- rule: ..., - macro: ... or - list: ...)`,
		`a.yaml:54:9: rule "Bad types": desc must be a string`,
		`a.yaml:58:12: rule "Bad types": enabled must be true or false`,
		`a.yaml:59:10: rule "Bad types": each entry of tags must be a string`,
		`a.yaml:60:3: rule "Good": redefines the rule at ` + filepath.Join(dir, "a.yaml") + `:2:3 with another source ("k8s_audit", was "syscall"); Falco refuses this (rename one)`,
		`a.yaml:67:3: key "rule" appears twice in one item (first at line 66; keep one)`,
		`b.yaml:1:1: rules content must be a YAML list of items (start each with - rule:, - macro: or - list:)`,
		`c.yaml:2:1: YAML syntax: found unexpected end of stream (fix the YAML; Falco would refuse the whole file)`,
		`missing.yaml: read rules: no such file or directory (pass an existing rules file or directory)`,
	}
	// Problems of one line keep the order they were found in.
	if !reflect.DeepEqual(got, want) {
		t.Errorf("problems:\n%s\n\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestLoadOutOfDateTagsAreWarnings(t *testing.T) {
	dir := write(t, map[string]string{"r.yaml": `
- rule: Old tags
  desc: d
  condition: c
  output: o
  priority: WARNING
  tags: [container, T1562.001, mitre_defense_evasion, T1490, mitre_impact]
- rule: Old tags
  tags: [T1070.002]
  override: {tags: append}
`})
	x, err := LoadPaths(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`r.yaml:7:21: warning: rule "Old tags": tag "T1562.001": technique T1562.001 is not in ATT&CK as of 2026-05-12: this release renumbered it T1685 "Disable or Modify Tools" (use T1685 and mitre_defense_impairment)`,
		`r.yaml:7:32: warning: rule "Old tags": tag "mitre_defense_evasion" names tactic "defense-evasion", which ATT&CK as of 2026-05-12 split into stealth, defense-impairment (use mitre_stealth or mitre_defense_impairment)`,
		`r.yaml:9:10: warning: rule "Old tags": tag "T1070.002": technique T1070.002 is not in ATT&CK as of 2026-05-12: this release renumbered it T1685.006 "Disable or Modify Tools: Clear Linux or Mac System Logs" (use T1685.006 and mitre_defense_impairment)`,
	}
	if got := warnings(x, dir); !reflect.DeepEqual(got, want) {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	r, _ := x.Rule("Old tags")
	if len(r.Tags) != 6 {
		t.Errorf("out-of-date tags must stay on the rule: %q", r.Tags)
	}
}

func TestLoadWarnsAboutIgnoredKeys(t *testing.T) {
	dir := write(t, map[string]string{"r.yaml": `
- rule: R
  desc: d
  condition: c
  output: o
  priority: WARNING
  prority: ERROR
- rule: R
  condition: and x
  tags: [new]
  append: true
- macro: m
  condition: x
  items: [a]
`})
	x, err := LoadPaths(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`r.yaml:7:3: warning: rule "R": unknown key "prority" (did you mean "priority"? Falco ignores unknown keys)`,
		`r.yaml:10:3: warning: rule "R": key "tags" is ignored by Falco in an append: true item (use override: {tags: append} or replace)`,
		`r.yaml:11:3: warning: rule "R": append: true is deprecated in Falco (use override: {condition: append})`,
		`r.yaml:14:3: warning: macro "m": unknown key "items" (it belongs to another kind of item; Falco ignores it here)`,
	}
	if got := warnings(x, dir); !reflect.DeepEqual(got, want) {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if r, _ := x.Rule("R"); len(r.Tags) != 0 {
		t.Errorf("legacy append must not add tags: %q", r.Tags)
	}
}

func TestLoadSeveralDocumentsAndAliases(t *testing.T) {
	dir := write(t, map[string]string{"r.yaml": `
- &shells
  list: shells
  items: [bash]
- *shells
---
- rule: R
  desc: &d shared
  condition: c
  output: *d
  priority: INFO
`})
	x, err := LoadPaths(dir)
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := x.Rule("R"); r.Output != "shared" || r.Priority != Informational {
		t.Errorf("R = %+v", r)
	}
	if l := x.Lists(); len(l) != 1 || len(l[0].Items) != 1 {
		t.Errorf("lists = %+v", l)
	}
}

func TestHash(t *testing.T) {
	base := `
- list: shells
  items: [bash, sh]
- macro: spawned
  condition: evt.type = execve
- macro: unrelated
  condition: evt.type = open
- rule: R
  desc: d
  condition: spawned and proc.name in (shells)
  output: o %proc.name
  priority: WARNING
  tags: [b, a]
`
	hashOf := func(body string) string {
		t.Helper()
		x, err := LoadPaths(write(t, map[string]string{"r.yaml": body}))
		if err != nil {
			t.Fatal(err)
		}
		r, ok := x.Rule("R")
		if !ok {
			t.Fatal("no rule R")
		}
		if len(r.Hash) != 64 {
			t.Fatalf("hash %q", r.Hash)
		}
		return r.Hash
	}
	h := hashOf(base)
	same := map[string]string{
		"reformatted": strings.Replace(strings.Replace(base, "condition: spawned and proc.name in (shells)", "condition: >\n    spawned and\n    proc.name in (shells)", 1), "tags: [b, a]", "tags:\n    - a\n    - b\n    - a", 1),
		"moved down":  "\n\n# comment\n" + base,
		"unrelated":   strings.Replace(base, "evt.type = open", "evt.type = close", 1),
	}
	for name, body := range same {
		if hashOf(body) != h {
			t.Errorf("%s: hash changed", name)
		}
	}
	differ := map[string]string{
		"condition": strings.Replace(base, "in (shells)", "in (shells) and user.uid != 0", 1),
		"macro":     strings.Replace(base, "evt.type = execve", "evt.type in (execve, execveat)", 1),
		"list":      strings.Replace(base, "[bash, sh]", "[bash, sh, zsh]", 1),
		"priority":  strings.Replace(base, "WARNING", "ERROR", 1),
		"tags":      strings.Replace(base, "[b, a]", "[b, a, c]", 1),
		"output":    strings.Replace(base, "o %proc.name", "o %proc.cmdline", 1),
		"disabled":  base + "  enabled: false\n",
		"override":  base + "- rule: R\n  exceptions: [{name: e, fields: [proc.name], values: [[x]]}]\n  override: {exceptions: append}\n",
	}
	for name, body := range differ {
		if hashOf(body) == h {
			t.Errorf("%s: hash did not change", name)
		}
	}
}

func TestClosest(t *testing.T) {
	x, err := LoadPaths(sampleHTTP, sampleGRPC)
	if err != nil {
		t.Fatal(err)
	}
	for in, want := range map[string][]string{
		"Disable recovery feature":  {"Disable recovery features"},
		"disable recovery features": {"Disable recovery features"},
		"recovery":                  {"Disable recovery features"},
		"Test rm-rf":                {"Test rm -rf"},
		"Clear Log Activities":      nil,
		"Disable recovery features": nil,
	} {
		if got := x.Closest(in, 3); !reflect.DeepEqual(got, want) {
			t.Errorf("Closest(%q) = %q, want %q", in, got, want)
		}
	}
	if !x.Has("Any rm") || x.Has("any rm") {
		t.Error("Has must match exact names only")
	}
}

func TestHashStopsOnAliasBombs(t *testing.T) {
	// Ten levels of ten aliases would be 10^10 nodes; the hash walk is
	// bounded, and the rule still loads.
	var b strings.Builder
	b.WriteString("- list: l0\n  items: &l0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i <= 10; i++ {
		fmt.Fprintf(&b, "- list: l%d\n  items: &l%d [", i, i)
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*l%d", i-1)
		}
		b.WriteString("]\n")
	}
	b.WriteString("- rule: R\n  desc: d\n  condition: c\n  output: o\n  priority: INFO\n  exceptions:\n    - name: e\n      fields: [proc.name]\n      values: *l10\n")
	x, err := LoadPaths(write(t, map[string]string{"r.yaml": b.String()}))
	var le *LoadError
	if !errors.As(err, &le) {
		t.Fatalf("err = %v", err)
	}
	// Lists of lists are not lists of strings; the rule itself loads.
	if r, ok := x.Rule("R"); !ok || len(r.Hash) != 64 {
		t.Errorf("R = %+v, %v", r, ok)
	}
}

func TestPositionCompareOrdersByFileLineColumn(t *testing.T) {
	// In problem order; the scenario loader orders its problems by it too.
	ordered := []Position{
		{File: "a.yaml"},
		{File: "a.yaml", Line: 2, Column: 9},
		{File: "a.yaml", Line: 10, Column: 1},
		{File: "a.yaml", Line: 10, Column: 3},
		{File: "b.yaml", Line: 1, Column: 1},
	}
	for i, p := range ordered {
		for j, q := range ordered {
			want := 0
			switch {
			case i < j:
				want = -1
			case i > j:
				want = 1
			}
			if got := p.Compare(q); got != want {
				t.Errorf("%v.Compare(%v) = %d, want %d", p, q, got, want)
			}
		}
	}
}
