package doctor

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"

	"github.com/attack-replay/attack-replay/harness/falco"
	"github.com/attack-replay/attack-replay/harness/falco/falcotest"
	"github.com/attack-replay/attack-replay/harness/host"
	"github.com/attack-replay/attack-replay/harness/session"
	"github.com/attack-replay/attack-replay/harness/victim"
)

// The doctor against the real engine and this machine. Every answer is held against the
// engine's or the kernel's own, asked independently, so the tests hold on any host; on this
// project's machine --privileged is refused for CAP_SYS_RESOURCE, no Falco image exists, and
// the memlock check fails.

func TestMain(m *testing.M) {
	if os.Getenv("TESTCONTAINERS_RYUK_DISABLED") == "" {
		_ = os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	}
	os.Exit(m.Run())
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// engine is an independent client of the engine; tests that need Docker skip without one.
func engine(t *testing.T) *testcontainers.DockerClient {
	t.Helper()
	cli, err := testcontainers.NewDockerClientWithOpts(testContext(t))
	if err == nil {
		_, err = cli.Ping(testContext(t), client.PingOptions{})
	}
	if err != nil {
		t.Skipf("no Docker engine: %v", err)
	}
	t.Cleanup(func() { _ = cli.Close() })
	return cli
}

func runID(t *testing.T) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return "doctor-test-" + hex.EncodeToString(b)
}

// assertNothingLeft fails when a container of the doctor's run is on the engine.
func assertNothingLeft(t *testing.T, cli *testcontainers.DockerClient, id string) {
	t.Helper()
	res, err := cli.ContainerList(context.Background(), client.ContainerListOptions{All: true, Filters: make(client.Filters).Add("label", victim.LabelRun+"="+id)})
	if err != nil || len(res.Items) > 0 {
		t.Errorf("containers of run %s left: %v (%v)", id, res.Items, err)
	}
}

// starts tells whether the engine starts a container of img with h.
func starts(t *testing.T, cli *testcontainers.DockerClient, img string, h *container.HostConfig) bool {
	t.Helper()
	ctx := testContext(t)
	h.NetworkMode = "none"
	res, err := cli.ContainerCreate(ctx, client.ContainerCreateOptions{
		Config:     &container.Config{Image: img, Cmd: []string{"true"}, Labels: map[string]string{victim.LabelProject: "1", victim.LabelRole: "test-probe"}},
		HostConfig: h,
	})
	if err != nil {
		t.Fatalf("create probe container: %v", err)
	}
	_, startErr := cli.ContainerStart(ctx, res.ID, client.ContainerStartOptions{})
	if _, err := cli.ContainerRemove(ctx, res.ID, client.ContainerRemoveOptions{Force: true}); err != nil {
		t.Fatalf("remove probe container: %v", err)
	}
	return startErr == nil
}

func TestRealEngine(t *testing.T) {
	cli := engine(t)
	ctx := testContext(t)
	cfg := Config{FalcoImage: session.DefaultFalcoImage, VictimImage: victim.ImageFromEnv()}
	id := runID(t)
	start := time.Now()
	r := Run(ctx, cfg, host.Machine{}, Docker{RunID: id})
	took := time.Since(start)
	var table bytes.Buffer
	_ = r.Table(&table)
	t.Logf("doctor took %s:\n%s", took.Round(time.Millisecond), table.String())
	assertNothingLeft(t, cli, id)

	v, err := cli.ServerVersion(ctx, client.ServerVersionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	expect(t, r, CheckDocker, StatusOK, "Docker "+v.Version+" (API "+v.APIVersion+") at "+cli.DaemonHost(), "")

	// `make test` builds the victim image first: its absence is a broken setup.
	if _, err := cli.ImageInspect(ctx, cfg.VictimImage); err != nil {
		t.Fatalf("victim image %q: %v (run `make victim-image`)", cfg.VictimImage, err)
	}
	expect(t, r, CheckVictimImage, StatusOK, cfg.VictimImage+" is present", "")

	if starts(t, cli, cfg.VictimImage, &container.HostConfig{Privileged: true}) {
		expect(t, r, CheckPrivileged, StatusOK, "accepted", "")
	} else {
		expect(t, r, CheckPrivileged, StatusWarn, "refused (", "--privileged")
		resourceRefused := !starts(t, cli, cfg.VictimImage, &container.HostConfig{CapAdd: []string{"SYS_RESOURCE"}})
		if got := strings.Contains(check(t, r, CheckPrivileged).Detail, "SYS_RESOURCE"); got != resourceRefused {
			t.Errorf("the engine refuses SYS_RESOURCE: %v; the privileged check names it: %v", resourceRefused, got)
		}
		limit, err := host.Machine{}.Memlock()
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case limit.Hard == host.Unlimited || !resourceRefused:
			expect(t, r, CheckMemlock, StatusOK, limit.String(), "")
		default:
			expect(t, r, CheckMemlock, StatusFail, limit.String()+", and the engine refuses CAP_SYS_RESOURCE", "LimitMEMLOCK=infinity")
		}
	}

	_, err = cli.ImageInspect(ctx, cfg.FalcoImage)
	switch {
	case cerrdefs.IsNotFound(err):
		expect(t, r, CheckFalcoImage, StatusFail, cfg.FalcoImage+" is not in the Docker engine", "docker load -i falco.tar")
		expect(t, r, CheckFalcoImage, StatusFail, "", "set FALCO_IMAGE to a Falco image present here")
	case err != nil:
		t.Fatal(err)
	default:
		expect(t, r, CheckFalcoImage, StatusOK, cfg.FalcoImage+": Falco ", "")
	}

	release, err := host.Machine{}.KernelRelease()
	if err != nil {
		t.Fatal(err)
	}
	info, err := cli.Info(ctx, client.InfoOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if info.Info.KernelVersion != release {
		t.Skipf("the engine runs on kernel %s, this machine on %s: host checks are skipped there", info.Info.KernelVersion, release)
	}
	expect(t, r, CheckKernel, StatusOK, release+" (the engine's)", "")
	if _, err := os.Stat(host.BTFPath); err == nil {
		expect(t, r, CheckBTF, StatusOK, "present", "")
	} else {
		expect(t, r, CheckBTF, StatusFail, "absent", "CONFIG_DEBUG_INFO_BTF")
	}
	expect(t, r, CheckCgroup, StatusOK, "v"+info.Info.CgroupVersion+" (", "")
	if c := check(t, r, CheckDisk); !strings.Contains(c.Detail, " free in "+info.Info.DockerRootDir) && !strings.Contains(c.Detail, " free in .") {
		t.Errorf("disk = %+v", c)
	}
	if r.OK != !slices.ContainsFunc(r.Checks, func(c Check) bool { return c.Status == StatusFail }) {
		t.Errorf("report ok %v with checks %+v", r.OK, r.Checks)
	}
}

// TestRealFalcoImage reads a Falco image's version through the real engine: the stand-in
// image (falcotest) plays one, with no version label, so `falco --version` runs.
func TestRealFalcoImage(t *testing.T) {
	cli := engine(t)
	ctx := testContext(t)
	img, err := falcotest.BuildStandin(ctx, "0.44.1")
	if errors.Is(err, falcotest.ErrEngineUnreachable) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := falcotest.Remove(context.Background(), img); err != nil {
			t.Error(err)
		}
	})
	id := runID(t)
	d := &run{ctx: ctx, cfg: Config{FalcoImage: img}, machine: host.Machine{}, engine: Docker{RunID: id}}
	_ = d.docker()
	c := d.falcoImage()
	assertNothingLeft(t, cli, id)
	if c.Status != StatusOK || c.Detail != img+": Falco 0.44.1 (falco --version), alerts over "+string(falco.TransportHTTP) {
		t.Errorf("falco-image = %+v", c)
	}
}
