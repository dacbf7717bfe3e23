package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/attack-replay/attack-replay/harness/verdict"
)

func TestNavigatorLayerColoursEachTechniqueByResult(t *testing.T) {
	rep := Build(recordedRun(t))
	var buf bytes.Buffer
	if err := rep.WriteNavigator(&buf); err != nil {
		t.Fatal(err)
	}
	golden(t, NavigatorFile, buf.Bytes())

	// Read it back as plain JSON: what the Navigator itself will parse.
	var layer struct {
		Name     string            `json:"name"`
		Versions map[string]string `json:"versions"`
		Domain   string            `json:"domain"`
		Filters  struct {
			Platforms []string `json:"platforms"`
		} `json:"filters"`
		Techniques []struct {
			TechniqueID string `json:"techniqueID"`
			Tactic      string `json:"tactic"`
			Color       string `json:"color"`
			Comment     string `json:"comment"`
			Score       *int   `json:"score"`
			Enabled     bool   `json:"enabled"`
			Metadata    []struct {
				Name    string `json:"name"`
				Value   string `json:"value"`
				Divider bool   `json:"divider"`
			} `json:"metadata"`
		} `json:"techniques"`
		LegendItems []struct{ Label, Color string } `json:"legendItems"`
		Gradient    struct {
			Colors   []string `json:"colors"`
			MinValue int      `json:"minValue"`
			MaxValue int      `json:"maxValue"`
		} `json:"gradient"`
		Metadata []struct{ Name, Value string } `json:"metadata"`
	}
	if err := json.Unmarshal(buf.Bytes(), &layer); err != nil {
		t.Fatal(err)
	}
	if layer.Versions["layer"] != "4.5" || layer.Versions["navigator"] < "4.9.0" || layer.Versions["attack"] != "18" {
		t.Errorf("versions %v, want layer 4.5, navigator >= 4.9.0, attack 18", layer.Versions)
	}
	if layer.Domain != "enterprise-attack" || strings.Join(layer.Filters.Platforms, ",") != "Linux" {
		t.Errorf("domain %q platforms %v", layer.Domain, layer.Filters.Platforms)
	}

	want := []struct {
		id, tactic, color string
		score             int // -1: unscored
		comment           []string
	}{
		{"T1490", "impact", "#e15759", 20, []string{"failed: 1 of 5 scenarios pass", "root-rm-rf flaky", "benign-rm-build-cache fail", "mkfs-nodiscard error", "rules: Disable recovery features"}},
		{"T1552.001", "credential-access", "#edc948", 50, []string{"inconclusive", "grep-passwords inconclusive", "rules: Search Private Keys or Passwords"}},
		{"T1555", "credential-access", "#59a14f", 100, []string{"passed: 1 of 1 scenarios pass", "rules: Read sensitive file untrusted"}},
		{"T1485", "impact", "#bab0ac", -1, []string{"untested", "Wipe block devices"}},
	}
	if len(layer.Techniques) != len(want) {
		t.Fatalf("%d techniques in the layer, want %d: %+v", len(layer.Techniques), len(want), layer.Techniques)
	}
	for i, w := range want {
		got := layer.Techniques[i]
		if got.TechniqueID != w.id || got.Tactic != w.tactic || got.Color != w.color || !got.Enabled {
			t.Errorf("technique %d: %s/%s %s enabled=%v, want %s/%s %s", i, got.TechniqueID, got.Tactic, got.Color, got.Enabled, w.id, w.tactic, w.color)
		}
		switch {
		case w.score < 0 && got.Score != nil:
			t.Errorf("%s scored %d, want unscored", w.id, *got.Score)
		case w.score >= 0 && (got.Score == nil || *got.Score != w.score):
			t.Errorf("%s score %v, want %d", w.id, got.Score, w.score)
		}
		for _, c := range w.comment {
			if !strings.Contains(got.Comment, c) {
				t.Errorf("%s comment %q lacks %q", w.id, got.Comment, c)
			}
		}
	}
	md := map[string]string{}
	for _, m := range layer.Techniques[0].Metadata {
		md[m.Name] = m.Value
	}
	if md["scenario root-rm-rf"] != "flaky" || md["scenario benign-rm-build-cache"] != "fail (benign)" || md["rule"] != "Disable recovery features" || md["latency p50"] != "37 ms" {
		t.Errorf("T1490 metadata %v", md)
	}

	colours := map[string]string{}
	for _, l := range layer.LegendItems {
		colours[strings.SplitN(l.Label, ":", 2)[0]] = l.Color
	}
	for status, colour := range map[string]string{"failed": "#e15759", "flaky": "#f28e2b", "error": "#b07aa1", "inconclusive": "#edc948", "passed": "#59a14f", "untested": "#bab0ac"} {
		if colours[status] != colour {
			t.Errorf("legend %s: %q, want %q", status, colours[status], colour)
		}
	}
	if len(layer.Gradient.Colors) < 2 || layer.Gradient.MaxValue <= layer.Gradient.MinValue {
		t.Errorf("gradient %+v is not valid for the Navigator", layer.Gradient)
	}
	var meta []string
	for _, m := range layer.Metadata {
		meta = append(meta, m.Name+"="+m.Value)
	}
	for _, w := range []string{"falco=0.40.0 modern_ebpf http", "drops=12", "rules rules/impact.yaml=sha256 3f2a9c1d8e7b6a5f4e3d2c1b0a99887766554433221100ffeeddccbbaa998877"} {
		if !strings.Contains(strings.Join(meta, "\n"), w) {
			t.Errorf("layer metadata lacks %q: %v", w, meta)
		}
	}
}

func TestTechniqueStatusPicksTheMostAlarmingScenario(t *testing.T) {
	sc := func(o verdict.Outcome, flaky bool) Scenario { return Scenario{Outcome: o, Flaky: flaky} }
	cases := []struct {
		scenarios []Scenario
		want      string
	}{
		{[]Scenario{sc(verdict.Pass, false), sc(verdict.Pass, false)}, StatusPassed},
		{[]Scenario{sc(verdict.Pass, false), sc(verdict.Fail, false), sc(verdict.Fail, true)}, StatusFailed},
		{[]Scenario{sc(verdict.Pass, false), sc(verdict.Fail, true), sc(verdict.Error, false)}, StatusFlaky},
		{[]Scenario{sc(verdict.Inconclusive, false), sc(verdict.Error, false)}, StatusError},
		{[]Scenario{sc(verdict.Pass, false), sc(verdict.Inconclusive, false)}, StatusInconclusive},
	}
	for _, c := range cases {
		if got := TechniqueStatus(Technique{Scenarios: c.scenarios}); got != c.want {
			t.Errorf("%+v: %s, want %s", c.scenarios, got, c.want)
		}
		r := &Report{Techniques: []Technique{{ID: "T1490", Scenarios: c.scenarios}}}
		if got := r.Navigator().Techniques[0].Color; got != statusColor[c.want] {
			t.Errorf("%+v: colour %s, want %s", c.scenarios, got, statusColor[c.want])
		}
	}
}

func TestNavigatorLeavesAnUnknownAttackReleaseOutOfVersions(t *testing.T) {
	r := &Report{Meta: Meta{AttackRelease: "MITRE ATT&CK Enterprise, objects modified up to 2026-05-12"}}
	l := r.Navigator()
	if l.Versions.Attack != "" {
		t.Errorf("versions.attack %q: the Navigator wants a release number there", l.Versions.Attack)
	}
	found := false
	for _, m := range l.Metadata {
		found = found || (m.Name == "ATT&CK" && m.Value == r.Meta.AttackRelease)
	}
	if !found {
		t.Errorf("the release is not in the metadata: %+v", l.Metadata)
	}
}
