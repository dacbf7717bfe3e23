package mutate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"os"
	"path/filepath"
	"sort"
	"strings"

	_ "embed"

	"github.com/attack-replay/attack-replay/harness/report"
)

// Names of the report files in a report directory.
const (
	MarkdownFile = "mutants.md"
	JSONFile     = "mutants.json"
	HTMLFile     = "mutants.html"
)

// Schema names the layout of mutants.json.
const Schema = "attack-replay/mutants/v1"

// maxMarkdownSurvivors bounds the survivors mutants.md lists per rule, so
// that it fits a pull-request comment; mutants.json and the HTML list all.
const maxMarkdownSurvivors = 40

// Headline is the report's one-line verdict.
func (r Report) Headline() string {
	n, killed := r.Totals()
	how := "from a run with Falco"
	if r.Prediction {
		how = "predicted from the scenarios' steps without Falco (attack-replay mutate --predict)"
	}
	return fmt.Sprintf("Mutation score %.1f%%: %d of %d mutants killed, %d survived, %s", r.Score(), killed, n, n-killed, how)
}

// Markdown renders mutants.md: a table per rule, then each rule's survivors
// with the clause that changed, for a person to judge.
func (r Report) Markdown() string {
	var b strings.Builder
	md := report.MarkdownText
	b.WriteString("# attack-replay mutation report\n\n**" + md(r.Headline()) + "**\n\n")
	if r.Prediction {
		b.WriteString("> [!NOTE]\n> A prediction: no Falco ran. The rules' conditions were evaluated over the execve events the steps' commands imply; `make test-mutants` runs the mutants in a real Falco.\n\n")
	}
	b.WriteString("| Rule | Mutants | Killed | Survived | Score | Scenarios |\n|---|--:|--:|--:|--:|--:|\n")
	for _, rr := range r.Rules {
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %.1f%% | %d |\n", md(rr.Rule), rr.Killed+rr.Survived, rr.Killed, rr.Survived, rr.Score(), len(rr.Scenarios))
	}
	for _, rr := range r.Rules {
		if rr.Survived == 0 && len(rr.Unjudged) == 0 && len(rr.OriginalFailed) == 0 && len(rr.Rejected) == 0 && len(r.Unknown[rr.Rule]) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n## %s\n\n", md(rr.Rule))
		if len(rr.Scenarios) == 0 {
			b.WriteString("No scenario judges this rule: every mutant survives. Add a scenario that expects it.\n\n")
		}
		if len(rr.Unjudged) > 0 {
			fmt.Fprintf(&b, "Not judged (error or skip): %s.\n\n", md(strings.Join(rr.Unjudged, ", ")))
		}
		if len(rr.OriginalFailed) > 0 {
			fmt.Fprintf(&b, "The original rule itself does not pass: %s.%s\n\n", md(strings.Join(rr.OriginalFailed, ", ")), predictionHint(r.Prediction))
		}
		if u := r.Unknown[rr.Rule]; len(u) > 0 {
			fmt.Fprintf(&b, "Unknown to the prediction (never guessed true): %s.\n\n", md(strings.Join(u, ", ")))
		}
		if len(rr.Rejected) > 0 {
			fmt.Fprintf(&b, "%d mutants left out because Falco would refuse them; mutants.json lists them.\n\n", len(rr.Rejected))
		}
		if rr.Survived == 0 {
			continue
		}
		b.WriteString("| # | Operator | Changed clause | Change | Written in |\n|--:|---|---|---|---|\n")
		shown := 0
		for _, m := range rr.Mutants {
			if m.Killed {
				continue
			}
			if shown == maxMarkdownSurvivors {
				fmt.Fprintf(&b, "\n… and %d more survivors in %s.\n", rr.Survived-shown, JSONFile)
				break
			}
			shown++
			fmt.Fprintf(&b, "| %d | %s | `%s` | %s | %s |\n", m.N, m.Operator, codeText(m.Clause), md(m.Change), md(m.In))
		}
	}
	if len(r.Unmodelled) > 0 {
		b.WriteString("\n## Steps not fully predicted\n\n")
		for _, u := range r.Unmodelled {
			b.WriteString("- " + md(u) + "\n")
		}
	}
	return b.String()
}

// predictionHint says why an original may fail a predicted scenario.
func predictionHint(prediction bool) string {
	if !prediction {
		return ""
	}
	return " The prediction synthesises execve events only: a rule on other events (open, connect, …) fires on none of them."
}

// codeText makes s safe inside a Markdown table's code span.
func codeText(s string) string {
	return strings.NewReplacer("|", `\|`, "`", "'", "\n", " ").Replace(s)
}

// JSON renders mutants.json: every mutant of every rule, killed or not,
// with the scenarios that killed it.
func (r Report) JSON() ([]byte, error) {
	type kill struct {
		Scenario string `json:"scenario"`
		Attempt  int    `json:"attempt"`
		Original string `json:"original"`
		Mutant   string `json:"mutant"`
		Reason   string `json:"reason"`
	}
	type mutant struct {
		N         int    `json:"n"`
		Name      string `json:"name"`
		Operator  string `json:"operator"`
		Clause    string `json:"clause"`
		Change    string `json:"change"`
		In        string `json:"in"`
		Span      [2]int `json:"span"`
		Condition string `json:"condition"`
		Killed    bool   `json:"killed"`
		Kills     []kill `json:"kills,omitempty"`
		Problem   string `json:"problem,omitempty"`
	}
	type rule struct {
		Rule       string   `json:"rule"`
		Mutants    int      `json:"mutants"`
		Killed     int      `json:"killed"`
		Survived   int      `json:"survived"`
		Score      float64  `json:"score"`
		Duplicates int      `json:"duplicates"`
		Scenarios  []string `json:"scenarios"`
		Unjudged   []string `json:"unjudged,omitempty"`
		Failed     []string `json:"original_failed,omitempty"`
		Unknown    []string `json:"unknown,omitempty"`
		All        []mutant `json:"all"`
		Rejected   []mutant `json:"rejected,omitempty"`
	}
	conv := func(m Mutant) mutant {
		return mutant{N: m.N, Name: m.Name(), Operator: string(m.Operator), Clause: m.Clause, Change: m.Change,
			In: m.In, Span: [2]int{m.Span.Pos, m.Span.End}, Condition: m.Condition}
	}
	n, killed := r.Totals()
	out := struct {
		Schema     string   `json:"schema"`
		Prediction bool     `json:"prediction"`
		Headline   string   `json:"headline"`
		Mutants    int      `json:"mutants"`
		Killed     int      `json:"killed"`
		Score      float64  `json:"score"`
		Rules      []rule   `json:"rules"`
		Unmodelled []string `json:"unmodelled,omitempty"`
	}{Schema: Schema, Prediction: r.Prediction, Headline: r.Headline(), Mutants: n, Killed: killed, Score: r.Score(), Unmodelled: r.Unmodelled}
	for _, rr := range r.Rules {
		jr := rule{Rule: rr.Rule, Mutants: rr.Killed + rr.Survived, Killed: rr.Killed, Survived: rr.Survived, Score: rr.Score(),
			Duplicates: rr.Duplicates, Scenarios: rr.Scenarios, Unjudged: rr.Unjudged, Failed: rr.OriginalFailed, Unknown: r.Unknown[rr.Rule], All: []mutant{}}
		if jr.Scenarios == nil {
			jr.Scenarios = []string{}
		}
		for _, m := range rr.Mutants {
			jm := conv(m.Mutant)
			jm.Killed = m.Killed
			for _, k := range m.Kills {
				jm.Kills = append(jm.Kills, kill{Scenario: k.Scenario, Attempt: k.Attempt, Original: string(k.Original), Mutant: string(k.Mutant), Reason: k.Reason})
			}
			jr.All = append(jr.All, jm)
		}
		for _, rej := range rr.Rejected {
			jm := conv(rej.Mutant)
			jm.Problem = rej.Problem
			jr.Rejected = append(jr.Rejected, jm)
		}
		out.Rules = append(out.Rules, jr)
	}
	data, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("mutate: render %s: %w", JSONFile, err)
	}
	return append(data, '\n'), nil
}

//go:embed mutants.html.tmpl
var htmlTemplate string

var htmlPage = template.Must(template.New("mutants").Funcs(template.FuncMap{
	"pct": func(f float64) string { return fmt.Sprintf("%.1f%%", f) },
}).Parse(htmlTemplate))

// HTML renders mutants.html, one self-contained page (no script, no
// external style): the rules' table, then each rule's mutants, survivors
// first.
func (r Report) HTML() ([]byte, error) {
	type rule struct {
		RuleResult
		Unknown []string
		Ordered []MutantResult // survivors first, then by number
	}
	page := struct {
		Report
		Rules []rule
	}{Report: r}
	for _, rr := range r.Rules {
		ordered := append([]MutantResult(nil), rr.Mutants...)
		sort.SliceStable(ordered, func(i, j int) bool { return !ordered[i].Killed && ordered[j].Killed })
		page.Rules = append(page.Rules, rule{RuleResult: rr, Unknown: r.Unknown[rr.Rule], Ordered: ordered})
	}
	var b bytes.Buffer
	if err := htmlPage.Execute(&b, page); err != nil {
		return nil, fmt.Errorf("mutate: render %s: %w", HTMLFile, err)
	}
	return b.Bytes(), nil
}

// Write writes mutants.md, mutants.json and mutants.html into dir.
func (r Report) Write(dir string) error {
	js, err := r.JSON()
	if err != nil {
		return err
	}
	page, err := r.HTML()
	if err != nil {
		return err
	}
	for name, data := range map[string][]byte{MarkdownFile: []byte(r.Markdown()), JSONFile: js, HTMLFile: page} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return fmt.Errorf("mutate: write %s: %w (REPORT_DIR must be writable)", filepath.Join(dir, name), err)
		}
	}
	return nil
}
