package falco

import (
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/attack-replay/attack-replay/harness/alert"
)

func TestRenderBarrierRule(t *testing.T) {
	for _, tc := range []struct {
		v      Version
		golden string
		evtDir bool
	}{
		{v400, "barrier-0.40.0.yaml", true},
		{Version{0, 42, 0, ""}, "barrier-0.42.0.yaml", true},
		// 0.43 dropped enter events: evt.dir is deprecated there.
		{v431, "barrier-0.43.1.yaml", false},
		{v441, "barrier-0.44.1.yaml", false},
	} {
		t.Run(tc.v.String(), func(t *testing.T) {
			out := RenderBarrierRule(tc.v)
			golden(t, tc.golden, out)
			var items []struct {
				Rule      string   `yaml:"rule"`
				Desc      string   `yaml:"desc"`
				Condition string   `yaml:"condition"`
				Output    string   `yaml:"output"`
				Priority  string   `yaml:"priority"`
				Tags      []string `yaml:"tags"`
			}
			if err := yaml.Unmarshal(out, &items); err != nil {
				t.Fatalf("not YAML: %v\n%s", err, out)
			}
			if len(items) != 1 {
				t.Fatalf("got %d items", len(items))
			}
			r := items[0]
			if r.Rule != alert.BarrierRule || r.Priority != "DEBUG" || len(r.Tags) != 1 || r.Tags[0] != BarrierTag || r.Desc == "" || r.Output == "" {
				t.Errorf("rule = %+v", r)
			}
			if !strings.HasPrefix(r.Condition, "evt.type in (execve, execveat)") || !strings.HasSuffix(r.Condition, `proc.env[AR_BARRIER] != ""`) {
				t.Errorf("condition = %q", r.Condition)
			}
			if strings.Contains(r.Condition, "evt.dir") != tc.evtDir {
				t.Errorf("condition %q: evt.dir wanted %v", r.Condition, tc.evtDir)
			}
		})
	}
}
