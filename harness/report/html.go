package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/attack-replay/attack-replay/harness/verdict"
)

// The page's style and script are our own files, embedded and inlined so
// report.html opens from an artifact download with no network.
var (
	//go:embed assets/report.html.tmpl
	htmlTemplate string
	//go:embed assets/report.css
	htmlCSS string
	//go:embed assets/report.js
	htmlJS string
)

var pageTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"rank":   statusRank,
	"plural": plural,
}).Parse(htmlTemplate))

type htmlPage struct {
	CSS       template.CSS
	Script    template.JS
	Warning   string
	RunErrors []string // Meta.RunErrors: what went wrong with the run as a whole
	Headline  string
	Facts     []fact
	Rules     []FileHash

	Verdicts   []verdictOption
	Techniques []htmlTechnique
	Scenarios  []htmlScenario
	Coverage   string
}

type verdictOption struct {
	Value string
	Count int
}

type htmlTechnique struct {
	Technique
	Status   string
	Verdicts string // space-separated verdicts of its scenarios, for the filter
	Text     string // what the text filter searches, lower case
	P50, P95 string
}

type htmlScenario struct {
	T        *Technique
	S        *Scenario
	Status   string
	Verdicts string
	Text     string
	Attempts int
	P50, P95 string
	Detail   *detail // nil when the scenario passed
}

// WriteHTML writes report.html: one file with inline style and script, a
// per-technique table and a per-scenario table, both sortable by any column
// and filterable by verdict and by technique, tactic or scenario text.
// The filter and sort live in the URL fragment (#verdict=fail&q=T1490), so a
// link opens the same view. Without script every row shows.
func (r *Report) WriteHTML(w io.Writer) error {
	page := htmlPage{
		CSS:       template.CSS(htmlCSS),
		Script:    template.JS(htmlJS),
		Warning:   r.dropsWarning(),
		RunErrors: r.Meta.RunErrors,
		Headline:  r.headline(),
		Facts:     r.facts(),
		Rules:     r.Meta.RulesFiles,
	}
	counts := map[string]int{}
	for ti := range r.Techniques {
		t := &r.Techniques[ti]
		var tv []string
		text := []string{t.ID, t.Name, t.Tactic}
		for si := range t.Scenarios {
			s := &t.Scenarios[si]
			sv := []string{string(s.Outcome)}
			if s.Flaky {
				sv = append(sv, StatusFlaky)
			}
			for _, v := range sv {
				counts[v]++
				if !slices.Contains(tv, v) {
					tv = append(tv, v)
				}
			}
			text = append(text, s.ID)
			hs := htmlScenario{
				T: t, S: s, Status: s.Status(), Verdicts: strings.Join(sv, " "), Attempts: len(s.Attempts),
				Text: strings.ToLower(strings.Join([]string{t.ID, t.Name, t.Tactic, s.ID, s.Description}, " ")),
				P50:  formatDuration(s.Latency.P50), P95: formatDuration(s.Latency.P95),
			}
			if s.Outcome != verdict.Pass && s.Outcome != verdict.Skip {
				d := failureDetail(s)
				hs.Detail = &d
			}
			page.Scenarios = append(page.Scenarios, hs)
		}
		page.Techniques = append(page.Techniques, htmlTechnique{
			Technique: *t, Status: TechniqueStatus(*t), Verdicts: strings.Join(tv, " "),
			Text: strings.ToLower(strings.Join(text, " ")),
			P50:  formatDuration(t.Latency.P50), P95: formatDuration(t.Latency.P95),
		})
	}
	for _, o := range []verdict.Outcome{verdict.Pass, verdict.Fail, verdict.Error, verdict.Inconclusive, verdict.Skip} {
		page.Verdicts = append(page.Verdicts, verdictOption{Value: string(o), Count: counts[string(o)]})
	}
	page.Verdicts = append(page.Verdicts, verdictOption{Value: StatusFlaky, Count: counts[StatusFlaky]})
	if r.Coverage != nil {
		page.Coverage = r.Coverage.headline()
	}
	if err := pageTemplate.Execute(w, page); err != nil {
		return fmt.Errorf("write report html: %w", err)
	}
	return nil
}

func (r *Report) headline() string {
	c := r.Summary.Counts
	skipped := ""
	if c.Skip > 0 {
		skipped = fmt.Sprintf(", %d skipped", c.Skip)
	}
	return fmt.Sprintf("%s in %s: %d pass, %d fail, %d error, %d inconclusive%s; %d flaky.",
		plural(c.Scenarios, "scenario"), plural(r.Summary.Techniques, "technique"), c.Pass, c.Fail, c.Error, c.Inconclusive, skipped, c.Flaky)
}

// fact is one thing about the run, shown in the header of report.md and
// report.html.
type fact struct {
	Label, Value string
	Code         bool // an identifier to show verbatim (image, filter)
}

func (r *Report) facts() []fact {
	m := r.Meta
	var out []fact
	add := func(label, value string, code bool) {
		if v := strings.Join(strings.Fields(value), " "); v != "" {
			out = append(out, fact{label, v, code})
		}
	}
	falco := m.Falco.Version
	if how := strings.Trim(m.Falco.Engine+", "+m.Falco.Transport, ", "); how != "" {
		falco += " (" + how + ")"
	}
	add("Falco", falco, false)
	add("Falco image", m.Falco.Image, true)
	add("Victim image", m.VictimImage, true)
	add("ATT&CK", m.AttackRelease, false)
	if !m.Start.IsZero() {
		when := m.Start.UTC().Format("2006-01-02 15:04:05 UTC")
		if !m.End.IsZero() {
			when += " (" + m.End.Sub(m.Start).Round(time.Second).String() + ")"
		}
		add("Run", when, false)
	}
	if m.Repeat > 1 {
		add("Attempts per scenario", fmt.Sprint(m.Repeat), false)
	}
	add("Label filter", m.LabelFilter, true)
	add("Host alerts", fmt.Sprint(m.HostAlerts), false)
	add("Dropped events", fmt.Sprint(r.Summary.Drops), false)
	add("attack-replay", m.Tool.Version+" "+m.Tool.Commit, false)
	return out
}
