package report

import (
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"

	"github.com/attack-replay/attack-replay/harness/verdict"
)

// Navigator layer format 4.5 (mitre-attack/attack-navigator,
// layers/LAYERFORMATv4_5.md): versions.navigator must be at least 4.9.0 and
// versions.layer exactly "4.5".
const (
	navigatorVersion = "5.1.0"
	layerVersion     = "4.5"
)

// A technique's status on the map, from most to least alarming: one failing
// scenario makes the technique red however many others pass.
const (
	StatusFailed       = "failed"
	StatusFlaky        = "flaky"
	StatusError        = "error"
	StatusInconclusive = "inconclusive"
	StatusUntestable   = "untestable"
	StatusPassed       = "passed"
	StatusUntested     = "untested"
)

// statusOrder ranks statuses from most to least alarming. A skipped
// scenario leaves its technique untestable, never green.
var statusOrder = []string{StatusFailed, StatusFlaky, StatusError, StatusInconclusive, StatusUntestable, StatusPassed, StatusUntested}

// Colours of the statuses: a red–orange–yellow–green scale for results,
// purple for errors (the scenario, not the rule, broke) and grey for
// techniques claimed by a rule but never emulated.
var statusColor = map[string]string{
	StatusFailed:       "#e15759",
	StatusFlaky:        "#f28e2b",
	StatusError:        "#b07aa1",
	StatusInconclusive: "#edc948",
	StatusUntestable:   "#76b7b2",
	StatusPassed:       "#59a14f",
	StatusUntested:     "#bab0ac",
}

var statusLegend = map[string]string{
	StatusFailed:       "failed: a scenario's rules misbehaved",
	StatusFlaky:        "flaky: attempts disagreed",
	StatusError:        "error: a scenario could not emulate",
	StatusInconclusive: "inconclusive: Falco dropped events",
	StatusUntestable:   "untestable: a scenario was skipped, with its reason",
	StatusPassed:       "passed: every scenario passed",
	StatusUntested:     "untested: tagged in a rule, no scenario",
}

// Layer is an ATT&CK Navigator layer (format 4.5).
type Layer struct {
	Name         string           `json:"name"`
	Versions     LayerVersions    `json:"versions"`
	Domain       string           `json:"domain"`
	Description  string           `json:"description"`
	Filters      LayerFilters     `json:"filters"`
	Sorting      int              `json:"sorting"`
	Layout       LayerLayout      `json:"layout"`
	HideDisabled bool             `json:"hideDisabled"`
	Techniques   []LayerTechnique `json:"techniques"`
	Gradient     LayerGradient    `json:"gradient"`
	LegendItems  []LegendItem     `json:"legendItems"`
	Metadata     []LayerMetadata  `json:"metadata"`
	// SelectTechniquesAcrossTactics is off: a technique is annotated under
	// the tactic its scenarios emulate, not under each of its tactics.
	SelectTechniquesAcrossTactics bool `json:"selectTechniquesAcrossTactics"`
}

// LayerVersions are the ATT&CK, Navigator and layer format versions.
type LayerVersions struct {
	Attack    string `json:"attack,omitempty"`
	Navigator string `json:"navigator"`
	Layer     string `json:"layer"`
}

// LayerFilters restrict the matrix to platforms.
type LayerFilters struct {
	Platforms []string `json:"platforms"`
}

// LayerLayout is how the Navigator draws the matrix.
type LayerLayout struct {
	Layout                string `json:"layout"`
	ShowID                bool   `json:"showID"`
	ShowName              bool   `json:"showName"`
	ExpandedSubtechniques string `json:"expandedSubtechniques"`
}

// LayerTechnique annotates one technique (under one tactic when set).
type LayerTechnique struct {
	TechniqueID string          `json:"techniqueID"`
	Tactic      string          `json:"tactic,omitempty"`
	Color       string          `json:"color"`
	Comment     string          `json:"comment"`
	Score       *int            `json:"score,omitempty"`
	Enabled     bool            `json:"enabled"`
	Metadata    []LayerMetadata `json:"metadata,omitempty"`
}

// LayerGradient colours scores; the explicit colours above win over it, so
// it only matters to a person who clears them to see pass rates.
type LayerGradient struct {
	Colors   []string `json:"colors"`
	MinValue int      `json:"minValue"`
	MaxValue int      `json:"maxValue"`
}

// LegendItem names a colour.
type LegendItem struct {
	Label string `json:"label"`
	Color string `json:"color"`
}

// LayerMetadata is a name/value pair, or a divider.
type LayerMetadata struct {
	Name    string `json:"name,omitempty"`
	Value   string `json:"value,omitempty"`
	Divider bool   `json:"divider,omitempty"`
}

// attackMajor is a release the Navigator understands in versions.attack
// ("18", "18.1"); other spellings only go into the metadata.
var attackMajor = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)

// Navigator builds the layer: each technique with scenarios coloured by its
// most alarming scenario, with the score its pass rate; each technique a
// candidate rule tags but no scenario emulates in grey.
func (r *Report) Navigator() Layer {
	l := Layer{
		Name:        "attack-replay results",
		Versions:    LayerVersions{Navigator: navigatorVersion, Layer: layerVersion},
		Domain:      "enterprise-attack",
		Description: r.layerDescription(),
		Filters:     LayerFilters{Platforms: []string{"Linux"}},
		Sorting:     3, // by score, descending: passing techniques first
		Layout:      LayerLayout{Layout: "side", ShowID: true, ShowName: true, ExpandedSubtechniques: "annotated"},
		Gradient:    LayerGradient{Colors: []string{statusColor[StatusFailed], statusColor[StatusInconclusive], statusColor[StatusPassed]}, MinValue: 0, MaxValue: 100},
		Metadata:    r.layerMetadata(),
	}
	if attackMajor.MatchString(r.Meta.AttackRelease) {
		l.Versions.Attack = r.Meta.AttackRelease
	}
	for _, s := range statusOrder {
		l.LegendItems = append(l.LegendItems, LegendItem{Label: statusLegend[s], Color: statusColor[s]})
	}
	for _, t := range r.Techniques {
		l.Techniques = append(l.Techniques, r.layerTechnique(t))
	}
	if r.Coverage != nil {
		for _, u := range r.Coverage.Untested {
			for _, tac := range u.Tactics {
				l.Techniques = append(l.Techniques, LayerTechnique{
					TechniqueID: u.ID,
					Tactic:      tac,
					Color:       statusColor[StatusUntested],
					Comment:     fmt.Sprintf("untested: no scenario emulates %s; tagged in %s", u.ID, strings.Join(u.Rules, ", ")),
					Enabled:     true,
					Metadata:    append([]LayerMetadata{{Name: "status", Value: StatusUntested}}, ruleMetadata(u.Rules)...),
				})
			}
		}
	}
	return l
}

// TechniqueStatus is the status a technique gets on the map.
func TechniqueStatus(t Technique) string {
	best := len(statusOrder) - 1
	for _, s := range t.Scenarios {
		st := StatusPassed
		switch {
		case s.Flaky:
			st = StatusFlaky
		case s.Outcome == verdict.Fail:
			st = StatusFailed
		case s.Outcome == verdict.Error:
			st = StatusError
		case s.Outcome == verdict.Inconclusive:
			st = StatusInconclusive
		case s.Outcome == verdict.Skip:
			st = StatusUntestable
		}
		best = min(best, slices.Index(statusOrder, st))
	}
	return statusOrder[best]
}

func (r *Report) layerTechnique(t Technique) LayerTechnique {
	status := TechniqueStatus(t)
	score := 0
	if t.Counts.Scenarios > 0 {
		score = 100 * t.Counts.Pass / t.Counts.Scenarios
	}
	var notPassing []string
	md := []LayerMetadata{{Name: "status", Value: status}}
	for _, s := range t.Scenarios {
		v := s.Status()
		if s.Benign {
			v += " (benign)"
		}
		if s.Outcome == verdict.Skip {
			v += ": " + truncate(s.Skip, maxText)
		}
		md = append(md, LayerMetadata{Name: "scenario " + s.ID, Value: v})
		if s.Outcome != verdict.Pass {
			notPassing = append(notPassing, s.ID+" "+s.Status())
		}
	}
	rulesOf := r.rulesOf(t)
	md = append(md, ruleMetadata(rulesOf)...)
	if t.Latency.Count > 0 {
		md = append(md, LayerMetadata{Divider: true},
			LayerMetadata{Name: "latency p50", Value: formatDuration(t.Latency.P50)},
			LayerMetadata{Name: "latency p95", Value: formatDuration(t.Latency.P95)})
	}
	comment := fmt.Sprintf("%s: %d of %d scenarios pass", status, t.Counts.Pass, t.Counts.Scenarios)
	if len(notPassing) > 0 {
		comment += "; not passing: " + strings.Join(notPassing, ", ")
	}
	if len(rulesOf) > 0 {
		comment += "; rules: " + strings.Join(rulesOf, ", ")
	}
	return LayerTechnique{
		TechniqueID: t.ID,
		Tactic:      t.Tactic,
		Color:       statusColor[status],
		Comment:     comment,
		Score:       &score,
		Enabled:     true,
		Metadata:    md,
	}
}

// rulesOf are the rules a technique's scenarios expect, then the candidate
// rules tagging the technique, each once.
func (r *Report) rulesOf(t Technique) []string {
	var out []string
	add := func(name string) {
		if name != "" && name != "*" && !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	for _, s := range t.Scenarios {
		for _, m := range s.Expect {
			add(m.Rule)
		}
	}
	for _, rule := range r.Rules {
		if rule.underTest() && slices.Contains(rule.Tags, t.ID) {
			add(rule.Name)
		}
	}
	return out
}

func ruleMetadata(rules []string) []LayerMetadata {
	if len(rules) == 0 {
		return nil
	}
	md := []LayerMetadata{{Divider: true}}
	for _, name := range rules {
		md = append(md, LayerMetadata{Name: "rule", Value: name})
	}
	return md
}

func (r *Report) layerDescription() string {
	c := r.Summary.Counts
	d := fmt.Sprintf("Falco rules replayed against MITRE ATT&CK scenarios: %d scenarios, %d pass, %d fail, %d error, %d inconclusive, %d skipped, %d flaky.",
		c.Scenarios, c.Pass, c.Fail, c.Error, c.Inconclusive, c.Skip, c.Flaky)
	if warn := r.dropsWarning(); warn != "" {
		d += " NOT TRUSTWORTHY: " + warn
	}
	return d
}

func (r *Report) layerMetadata() []LayerMetadata {
	m := r.Meta
	var md []LayerMetadata
	add := func(name, value string) {
		if value != "" {
			md = append(md, LayerMetadata{Name: name, Value: value})
		}
	}
	add("falco", strings.TrimSpace(m.Falco.Version+" "+m.Falco.Engine+" "+m.Falco.Transport))
	add("falco image", m.Falco.Image)
	add("victim image", m.VictimImage)
	add("ATT&CK", m.AttackRelease)
	for _, f := range m.RulesFiles {
		add("rules "+f.Path, "sha256 "+f.SHA256)
	}
	if !m.Start.IsZero() {
		add("run", m.Start.UTC().Format("2006-01-02T15:04:05Z"))
	}
	add("drops", fmt.Sprint(r.Summary.Drops))
	add("attack-replay", strings.TrimSpace(m.Tool.Version+" "+m.Tool.Commit))
	return md
}

// WriteNavigator writes navigator-layer.json.
func (r *Report) WriteNavigator(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r.Navigator()); err != nil {
		return fmt.Errorf("write navigator layer: %w", err)
	}
	return nil
}

// statusRank orders scenario and technique statuses from most to least
// alarming, for sorting: fail and failed rank alike.
func statusRank(status string) int {
	switch status {
	case string(verdict.Fail):
		status = StatusFailed
	case string(verdict.Pass):
		status = StatusPassed
	}
	return slices.Index(statusOrder, status)
}
