package session_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	"gopkg.in/yaml.v3"

	"github.com/attack-replay/attack-replay/harness/scenario"
	"github.com/attack-replay/attack-replay/harness/session"
	"github.com/attack-replay/attack-replay/harness/verdict"
	"github.com/attack-replay/attack-replay/harness/victim"
)

// TestSessionShapesFalco starts the stand-in with the image's rules: the
// upstream rule a scenario expects is enabled beside the candidates, the
// Falco container gets FALCO_EXTRA_HOSTS, and a skipped scenario is counted
// and reported as skipped without a victim.
func TestSessionShapesFalco(t *testing.T) {
	cfg := runConfig(t, standinImage(t, "0.44.1", ""), "testdata/imagerules/scenarios")
	cfg.FalcoImageRules = true
	cfg.Rules = []string{"testdata/imagerules/rules"}
	cfg.FalcoExtraHosts = []string{"kubernetes.default.svc.cluster.local:127.0.0.1"}
	in := inputs(t, cfg)
	if got := session.NamedRules(in.Selected); !slices.Equal(got, []string{"Shadow read by cat", "Read sensitive file untrusted"}) {
		t.Errorf("named rules = %q", got)
	}
	skipped := *in.Selected[1]
	skipped.ID, skipped.Skip = "skipped-listing", "needs Kubernetes"
	skipped.Forbid = []scenario.Matcher{{Rule: "Only a skipped scenario names it"}}
	in.Selected = append(in.Selected, &skipped)
	in.All = in.Selected
	s, err := start(t, cfg, in)
	if err != nil {
		t.Fatal(err)
	}

	var conf struct {
		Rules []map[string]map[string]string
	}
	if err := yaml.Unmarshal(s.Falco().Config(), &conf); err != nil {
		t.Fatal(err)
	}
	var enabled []string
	for _, r := range conf.Rules {
		if e, ok := r["enable"]; ok {
			enabled = append(enabled, e["rule"])
		}
	}
	if !slices.Contains(enabled, "Read sensitive file untrusted") || !slices.Contains(enabled, "Shadow read by cat") || slices.Contains(enabled, "Only a skipped scenario names it") {
		t.Errorf("enabled rules = %q; want the candidate and the upstream rule a scenario expects", enabled)
	}
	cli, err := testcontainers.NewDockerClientWithOpts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	info, err := cli.ContainerInspect(context.Background(), s.Falco().GetContainerID(), client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(info.Container.HostConfig.ExtraHosts, cfg.FalcoExtraHosts) {
		t.Errorf("falco container extra hosts = %q", info.Container.HostConfig.ExtraHosts)
	}

	ctx, cancel := context.WithTimeout(context.Background(), await)
	defer cancel()
	res, err := s.Await(ctx, "skipped-listing")
	if err != nil || res.Outcome != verdict.Skip || res.Attempts[0].VictimID != "" {
		t.Errorf("skipped scenario: %+v, %v", res, err)
	}
	for _, sc := range in.Selected[:2] {
		if _, err := s.Await(ctx, sc.ID); err != nil {
			t.Errorf("Await(%q) = %v", sc.ID, err)
		}
	}
	nSkipped := 0
	for _, r := range s.Results() {
		if r.Outcome == verdict.Skip {
			nSkipped++
		}
	}
	if got := len(s.Results()); got != 3 || nSkipped != 1 {
		t.Errorf("results: %d, %d skipped; want 3, 1 skipped", got, nSkipped)
	}
	if _, err := s.Close(context.Background()); err != nil {
		t.Errorf("Close = %v", err)
	}
	if got := readReports(t, cfg.ReportDir); got.Summary.Skip != 1 || got.Summary.Scenarios != 3 {
		t.Errorf("report summary = %+v", got.Summary)
	}
}

func TestCheckVictimImages(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg := session.Config{VictimImage: victimImage(t), VictimToolsImage: "attack-replay/victim:no-such-tools"}
	tools := func(id string) *scenario.Scenario {
		return &scenario.Scenario{ID: id, Victim: scenario.Victim{Image: scenario.ImageTools}}
	}
	own := &scenario.Scenario{ID: "own-image", Victim: scenario.Victim{Image: "example.test/victim:9"}}
	skipped := &scenario.Scenario{ID: "skipped", Skip: "not here", Victim: scenario.Victim{Image: "example.test/never:1"}}
	plain := &scenario.Scenario{ID: "plain"}

	if err := session.CheckVictimImages(ctx, cfg, []*scenario.Scenario{plain, skipped}); err != nil {
		t.Errorf("default image present, skipped scenario's image ignored: %v", err)
	}
	err := session.CheckVictimImages(ctx, cfg, []*scenario.Scenario{plain, tools("a"), tools("b"), tools("c"), tools("d"), own})
	t.Logf("error: %v", err)
	for _, want := range []string{
		`"attack-replay/victim:no-such-tools" is not in the Docker engine: victim: {image: tools} of scenarios "a", "b", "c" and 1 more; build it with ` + "`make victim-images`" + `, or set VICTIM_TOOLS_IMAGE`,
		`"example.test/victim:9" is not in the Docker engine: named by the victim: image of scenario "own-image"; build or tag it yourself`,
	} {
		if !errors.Is(err, victim.ErrImageMissing) || !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q", want)
		}
	}
	cfg.VictimToolsImage = victim.ToolsImageFromEnv()
	if err := session.CheckVictimImages(ctx, cfg, []*scenario.Scenario{tools("a")}); err != nil {
		t.Errorf("tools image present: %v", err)
	}
}
