package techniques

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/attack-replay/attack-replay/harness/scenario"
)

// Spec is what the suite needs to declare one scenario's spec.
type Spec struct {
	Scenario *scenario.Scenario
	Text     string
	Labels   []string
	Location types.CodeLocation // the scenario in its YAML file
	Timeout  time.Duration
}

// queueMargin covers what a spec waits beyond its own scenario: the barrier
// and scenarios already running on every worker when its turn comes.
const queueMargin = time.Minute

// PlanSpecs turns scenarios into specs. root is the directory the scenario
// paths are relative to; locations are made absolute so editors and CI
// annotations can open them.
func PlanSpecs(scenarios []*scenario.Scenario, root string, repeat int) ([]Spec, error) {
	if repeat < 1 {
		repeat = 1
	}
	specs := make([]Spec, 0, len(scenarios))
	for _, sc := range scenarios {
		file := sc.File
		if !filepath.IsAbs(file) {
			file = filepath.Join(root, file)
		}
		abs, err := filepath.Abs(file)
		if err != nil {
			return nil, fmt.Errorf("plan spec %q: %w", sc.ID, err)
		}
		specs = append(specs, Spec{
			Scenario: sc,
			Text:     specText(sc),
			Labels:   specLabels(sc),
			Location: types.CodeLocation{FileName: abs, LineNumber: sc.Line},
			Timeout:  time.Duration(repeat)*sc.Timeout + queueMargin,
		})
	}
	return specs, nil
}

// specText names a spec the way a detection engineer scans a list:
// technique, tactic, scenario id, then what it shows.
func specText(sc *scenario.Scenario) string {
	kind := "attack"
	if sc.Benign {
		kind = "benign"
	}
	text := fmt.Sprintf("%s %s/%s [%s]", sc.Technique, sc.Tactic, sc.ID, kind)
	if d := strings.TrimSpace(sc.Description); d != "" {
		text += ": " + firstLine(d)
	}
	return text
}

// specLabels are the Ginkgo labels of a scenario's spec: technique (and its
// parent for a sub-technique, so TECHNIQUES=T1003 selects T1003.008 too),
// tactic, and "benign" or "attack".
func specLabels(sc *scenario.Scenario) []string {
	id := string(sc.Technique)
	labels := []string{"technique:" + id}
	if parent, _, ok := strings.Cut(id, "."); ok {
		labels = append(labels, "technique:"+parent)
	}
	labels = append(labels, "tactic:"+string(sc.Tactic), "scenario:"+sc.ID)
	if sc.Benign {
		return append(labels, "benign")
	}
	return append(labels, "attack")
}

// Select keeps the specs a Ginkgo label filter lets through, so the runner
// only replays scenarios whose specs will run.
func Select(specs []Spec, labelFilter string) ([]Spec, error) {
	if strings.TrimSpace(labelFilter) == "" {
		return specs, nil
	}
	keep, err := types.ParseLabelFilter(labelFilter)
	if err != nil {
		return nil, fmt.Errorf("parse label filter %q: %w", labelFilter, err)
	}
	var out []Spec
	for _, s := range specs {
		if keep(s.Labels) {
			out = append(out, s)
		}
	}
	return out, nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return strings.TrimSpace(line)
}
