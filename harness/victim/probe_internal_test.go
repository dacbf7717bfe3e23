package victim

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"testing"

	"github.com/moby/moby/client"
)

// fakeEngine answers the probe's create, start and remove calls like Docker 20.10 does:
// unknown capability names fail at create and name themselves; capabilities outside the
// runtime's bounding set fail at start without saying which.
type fakeEngine struct {
	client.ContainerAPIClient // other methods are not used by the probe; calling one panics

	unknown    []string   // refused at create
	refused    []string   // refused at start, each on its own
	together   [][]string // refused at start only when all of a group are present
	containers map[string][]string
	created    int
	starts     int
}

func (f *fakeEngine) ContainerCreate(_ context.Context, opts client.ContainerCreateOptions) (client.ContainerCreateResult, error) {
	h := opts.HostConfig
	if h.PidMode == "host" {
		// An engine that does not show its runtime: the probe must bisect.
		return client.ContainerCreateResult{}, errors.New("host PID namespace refused")
	}
	for _, c := range h.CapAdd {
		if slices.Contains(f.unknown, c) {
			return client.ContainerCreateResult{}, fmt.Errorf(`Error response from daemon: invalid CapAdd: unknown capability: "CAP_%s"`, c)
		}
	}
	if f.containers == nil {
		f.containers = map[string][]string{}
	}
	f.created++
	id := fmt.Sprintf("%064d", f.created)
	f.containers[id] = h.CapAdd
	if h.Privileged {
		f.containers[id] = slices.Clone(capabilities)
	}
	return client.ContainerCreateResult{ID: id}, nil
}

func (f *fakeEngine) ContainerStart(_ context.Context, id string, _ client.ContainerStartOptions) (client.ContainerStartResult, error) {
	f.starts++
	caps := f.containers[id]
	refuse := slices.ContainsFunc(caps, func(c string) bool { return slices.Contains(f.refused, c) })
	for _, group := range f.together {
		refuse = refuse || !slices.ContainsFunc(group, func(c string) bool { return !slices.Contains(caps, c) })
	}
	if refuse {
		return client.ContainerStartResult{}, errors.New("OCI runtime create failed: unable to apply caps: operation not permitted")
	}
	return client.ContainerStartResult{}, nil
}

func (f *fakeEngine) ContainerRemove(_ context.Context, id string, _ client.ContainerRemoveOptions) (client.ContainerRemoveResult, error) {
	delete(f.containers, id)
	return client.ContainerRemoveResult{}, nil
}

func TestWidestCapabilitiesBisects(t *testing.T) {
	docker2010 := []string{"PERFMON", "BPF", "CHECKPOINT_RESTORE"}
	for name, tc := range map[string]struct {
		engine      fakeEngine
		wantDropped []string
	}{
		"this machine":          {fakeEngine{unknown: docker2010, refused: []string{"SYS_RESOURCE"}}, []string{"SYS_RESOURCE", "PERFMON", "BPF", "CHECKPOINT_RESTORE"}},
		"culprits in both half": {fakeEngine{refused: []string{"CHOWN", "SYS_RESOURCE", "AUDIT_READ"}}, []string{"CHOWN", "SYS_RESOURCE", "AUDIT_READ"}},
		"first and last":        {fakeEngine{refused: []string{"CHOWN", "CHECKPOINT_RESTORE"}}, []string{"CHOWN", "CHECKPOINT_RESTORE"}},
		"nothing refused":       {fakeEngine{unknown: docker2010}, []string{"PERFMON", "BPF", "CHECKPOINT_RESTORE"}},
	} {
		t.Run(name, func(t *testing.T) {
			p := probeRunner{cli: &tc.engine, image: "victim"}
			accepted, dropped, err := p.widestCapabilities(t.Context())
			if err != nil {
				t.Fatalf("widestCapabilities: %v", err)
			}
			if !slices.Equal(dropped, tc.wantDropped) {
				t.Errorf("dropped %v, want %v", dropped, tc.wantDropped)
			}
			if want := without(capabilities, tc.wantDropped); !slices.Equal(accepted, want) {
				t.Errorf("accepted %v, want %v", accepted, want)
			}
			if len(tc.engine.containers) > 0 {
				t.Errorf("probe left %d containers", len(tc.engine.containers))
			}
			t.Logf("%d container starts", tc.engine.starts)
		})
	}
}

func TestWidestCapabilitiesRefusedOnlyTogether(t *testing.T) {
	engine := fakeEngine{together: [][]string{{"SYS_ADMIN", "NET_ADMIN"}}}
	p := probeRunner{cli: &engine, image: "victim"}
	_, _, err := p.widestCapabilities(t.Context())
	if err == nil {
		t.Fatalf("widestCapabilities succeeded on an engine that refuses a combination only")
	}
	t.Logf("error: %v", err)
}

func TestBoundingSetMask(t *testing.T) {
	// CapBnd as the shim on this machine shows it: every capability up to 40 but SYS_RESOURCE.
	mask, err := strconv.ParseUint("000001fffeffffff", 16, 64)
	if err != nil {
		t.Fatal(err)
	}
	var missing []string
	for i, c := range capabilities {
		if mask&(1<<i) == 0 {
			missing = append(missing, c)
		}
	}
	if !slices.Equal(missing, []string{"SYS_RESOURCE"}) {
		t.Fatalf("mask lacks %v, want [SYS_RESOURCE]", missing)
	}
}
