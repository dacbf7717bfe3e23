package victim_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/container"

	"github.com/attack-replay/attack-replay/harness/victim"
)

// TestProbeGrant checks ProbeGrant against what the engine itself says, and that it leaves
// nothing behind. On this project's machine --privileged is refused and SYS_RESOURCE is
// outside the runtime's bounding set; the checks hold on any engine.
func TestProbeGrant(t *testing.T) {
	t.Parallel()
	img := requireImage(t)
	run := runID(t)
	g, err := victim.ProbeGrant(testContext(t), img, map[string]string{victim.LabelRun: run})
	assertNoContainers(t, map[string]string{victim.LabelRun: run})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("grant: %+v", g)
	probe := newEngineProbe(t)
	if probe.starts(t, &container.HostConfig{Privileged: true}) {
		if !g.Privileged || g.PrivilegedRefusal != "" || len(g.Refused) > 0 {
			t.Fatalf("engine accepts privileged; ProbeGrant says %+v", g)
		}
		return
	}
	if g.Privileged || !strings.Contains(g.PrivilegedRefusal, "Error response from daemon") || len(g.Accepted) == 0 {
		t.Fatalf("engine refuses privileged; ProbeGrant says %+v", g)
	}
	if !probe.starts(t, &container.HostConfig{CapAdd: g.Accepted}) {
		t.Errorf("the engine refuses the accepted set %v", g.Accepted)
	}
	for _, name := range g.Refused {
		if slices.Contains(g.Accepted, name) || probe.starts(t, &container.HostConfig{CapAdd: []string{name}}) {
			t.Errorf("capability %s is refused, but the engine accepts it alone (or it is accepted too)", name)
		}
	}
	if !probe.starts(t, &container.HostConfig{CapAdd: []string{"SYS_RESOURCE"}}) && !slices.Contains(g.Refused, "SYS_RESOURCE") {
		t.Errorf("the engine refuses SYS_RESOURCE but ProbeGrant does not say so: %+v", g)
	}
}

func TestProbeGrantMissingImage(t *testing.T) {
	_, err := victim.ProbeGrant(testContext(t), "attack-replay/no-such-image:never", nil)
	if err == nil || !strings.Contains(err.Error(), "make victim-image") {
		t.Fatalf("ProbeGrant of a missing image: %v", err)
	}
}
