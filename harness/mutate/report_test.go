package mutate_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/attack-replay/attack-replay/harness/mutate"
)

// A rule of many survivors whose clauses hold Markdown and HTML syntax.
func TestReportRendering(t *testing.T) {
	var items []string
	for i := range 60 {
		items = append(items, fmt.Sprintf("'a|<b>%d'", i))
	}
	set := generate(t, oneRule(cond("proc.name in ("+strings.Join(items, ", ")+")"), ""))
	rep := mutate.Report{Result: mutate.Classify(set, nil, nil, nil)}
	rr := rep.Rules[0]
	if rr.Killed != 0 || rr.Survived != len(rr.Mutants) || rr.Survived < 100 || rr.Score() != 0 || rep.Score() != 0 {
		t.Fatalf("no scenario: %d killed, %d survived, score %.0f", rr.Killed, rr.Survived, rr.Score())
	}
	md := rep.Markdown()
	if !strings.Contains(md, "No scenario judges this rule") || !strings.Contains(md, fmt.Sprintf("and %d more survivors in mutants.json", rr.Survived-40)) {
		t.Errorf("mutants.md lacks the hint or the bound:\n%s", md)
	}
	for _, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(line, "| ") && strings.Count(strings.ReplaceAll(line, `\|`, ""), "|") != 6 && strings.Count(strings.ReplaceAll(line, `\|`, ""), "|") != 7 {
			t.Errorf("a table row with an unescaped |: %s", line)
		}
	}
	page, err := rep.HTML()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(page), "<b>") || !strings.Contains(string(page), "&lt;b&gt;") {
		t.Error("mutants.html does not escape the clauses")
	}
	dir := t.TempDir()
	if err := rep.Write(dir); err != nil {
		t.Fatal(err)
	}
	var js struct {
		Mutants int `json:"mutants"`
		Rules   []struct {
			All []struct {
				Name string `json:"name"`
			} `json:"all"`
		} `json:"rules"`
	}
	data, _ := os.ReadFile(filepath.Join(dir, mutate.JSONFile))
	if err := json.Unmarshal(data, &js); err != nil || js.Mutants != rr.Survived || len(js.Rules[0].All) != rr.Survived {
		t.Errorf("mutants.json: %v, %d mutants, want every one of %d", err, js.Mutants, rr.Survived)
	}
}
