package victim_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"math/big"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"

	"github.com/attack-replay/attack-replay/harness/victim"
)

func TestStartExecTerminate(t *testing.T) {
	t.Parallel()
	c := startVictim(t, victim.WithScenario("disable-rescue-service"))
	ctx := testContext(t)

	if len(c.ID()) != 64 || !strings.HasPrefix(c.ID(), c.ShortID()) || len(c.ShortID()) != 12 {
		t.Fatalf("ID %q, ShortID %q: want 64 characters and their 12-character prefix", c.ID(), c.ShortID())
	}
	if got := mustExec(t, c, "echo", "hello"); got != "hello\n" {
		t.Fatalf("echo hello printed %q", got)
	}
	// An init is PID 1, so `sleep` is not the process that must react to the stop signal.
	if got := mustExec(t, c, "cat", "/proc/1/comm"); strings.TrimSpace(got) != "docker-init" {
		t.Errorf("PID 1 is %q, want docker-init", strings.TrimSpace(got))
	}

	info, err := c.Inspect(ctx)
	if err != nil {
		t.Fatalf("inspect: %v", err)
	}
	for k, want := range map[string]string{
		victim.LabelProject:  "1",
		victim.LabelRole:     victim.RoleVictim,
		victim.LabelScenario: "disable-rescue-service",
	} {
		if got := info.Config.Labels[k]; got != want {
			t.Errorf("label %s = %q, want %q", k, got, want)
		}
	}
	if info.Config.Labels[victim.LabelRun] == "" || info.Config.Labels[victim.LabelInstance] == "" {
		t.Errorf("labels %v lack the run or instance label", info.Config.Labels)
	}
	if !strings.HasPrefix(info.Name, "/attack-replay-disable-rescue-service-") {
		t.Errorf("name %q: want attack-replay-<scenario>-<suffix>", info.Name)
	}
	if info.Config.StopSignal != "SIGKILL" {
		t.Errorf("stop signal %q, want SIGKILL", info.Config.StopSignal)
	}
	if got := info.HostConfig.LogConfig.Type; got != "none" {
		t.Errorf("log driver %q, want none: nothing reads a victim's logs", got)
	}

	if err := c.Terminate(ctx); err != nil {
		t.Fatalf("terminate: %v", err)
	}
	if err := c.Terminate(ctx); err != nil {
		t.Fatalf("second terminate: %v", err)
	}
	_, err = c.Inspect(ctx)
	if !cerrdefs.IsNotFound(err) {
		t.Fatalf("inspect after terminate: %v, want not found", err)
	}
}

func TestOptions(t *testing.T) {
	t.Parallel()
	c := startVictim(t,
		victim.WithName("ar-options-"+strconv.FormatInt(int64(os.Getpid()), 10)),
		victim.WithLabels(map[string]string{"team": "detection"}),
		victim.WithEnv(map[string]string{"VICTIM_ROLE": "web"}),
		victim.WithNetworkMode("none"),
		victim.WithPrivileges(victim.PrivilegesDefault),
		victim.WithCapabilities("cap_net_admin"),
	)
	info, err := c.Inspect(testContext(t))
	if err != nil {
		t.Fatalf("inspect: %v", err)
	}
	if want := "/ar-options-" + strconv.Itoa(os.Getpid()); info.Name != want {
		t.Errorf("name %q, want %q", info.Name, want)
	}
	if info.Config.Labels["team"] != "detection" {
		t.Errorf("labels %v lack team=detection", info.Config.Labels)
	}
	if !slices.Contains(info.Config.Env, "VICTIM_ROLE=web") {
		t.Errorf("env %v lacks VICTIM_ROLE=web", info.Config.Env)
	}
	if info.HostConfig.NetworkMode != "none" {
		t.Errorf("network mode %q, want none", info.HostConfig.NetworkMode)
	}
	if capEff(t, c).Bit(slices.Index(kernelCapabilities, "NET_ADMIN")) != 1 {
		t.Errorf("default victim with WithCapabilities(cap_net_admin) lacks NET_ADMIN (cap add %v)", info.HostConfig.CapAdd)
	}
	if got := mustExec(t, c, "sh", "-c", "echo $VICTIM_ROLE"); got != "web\n" {
		t.Errorf("exec sees VICTIM_ROLE=%q, want web", got)
	}
}

func TestOptionErrors(t *testing.T) {
	ctx := testContext(t)
	for name, tc := range map[string]struct {
		opt  testcontainers.ContainerCustomizer
		want string
	}{
		"reserved label": {victim.WithLabels(map[string]string{victim.LabelRun: "x"}), `label "attack-replay.run"`},
		"bad capability": {victim.WithCapabilities("SYS_EVERYTHING"), `capability "SYS_EVERYTHING" is not a Linux capability`},
		"bad privileges": {victim.WithPrivileges("root"), `privileges "root"`},
		"bad name":       {victim.WithName("-x"), `container name "-x"`},
	} {
		t.Run(name, func(t *testing.T) {
			c, err := victim.Run(ctx, "", tc.opt)
			if c != nil || err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "run victim: ") {
				t.Fatalf("Run = %v, %v; want no container and an error containing %q", c, err, tc.want)
			}
		})
	}
}

func TestParsePrivileges(t *testing.T) {
	for in, want := range map[string]victim.Privileges{
		"auto": victim.PrivilegesAuto, " Privileged ": victim.PrivilegesPrivileged, "default": victim.PrivilegesDefault,
	} {
		if got, err := victim.ParsePrivileges(in); err != nil || got != want {
			t.Errorf("ParsePrivileges(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	// capabilities is an effective mode only: asking for it is asking for auto.
	for _, in := range []string{"capabilities", "root", ""} {
		if _, err := victim.ParsePrivileges(in); err == nil || !strings.Contains(err.Error(), "want auto, privileged or default") {
			t.Errorf("ParsePrivileges(%q) error %v, want one naming the valid modes", in, err)
		}
	}
}

func TestMissingImage(t *testing.T) {
	t.Parallel()
	requireImage(t) // proves the engine answers, so the error below is about the image
	const img = "attack-replay/victim:no-such-tag"
	c, err := victim.Run(testContext(t), img, quietLogger(t))
	if c != nil {
		t.Errorf("Run returned a container for a missing image")
	}
	if !errors.Is(err, victim.ErrImageMissing) {
		t.Fatalf("Run error %v, want ErrImageMissing", err)
	}
	for _, want := range []string{strconv.Quote(img), "make victim-image", victim.ImageEnv} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
	if ok, err := victim.ImagePresent(testContext(t), img); ok || err != nil {
		t.Errorf("ImagePresent(%q) = %v, %v; want false, nil", img, ok, err)
	}
}

// TestEngineUnreachable runs a child test in a mount namespace whose /run has no Docker
// socket: testcontainers tries DOCKER_HOST and then falls back to the default socket, so an
// unreachable engine can only be shown where the default socket is gone too.
func TestEngineUnreachable(t *testing.T) {
	if os.Getenv("VICTIM_UNREACHABLE_CHILD") != "" {
		engineUnreachableChild(t)
		return
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Skip("unshare (util-linux) is not installed: cannot hide the Docker socket from a child process")
	}
	if os.Geteuid() != 0 {
		t.Skip("hiding the Docker socket needs a mount namespace, which needs root")
	}
	home := t.TempDir()
	script := `mount -t tmpfs none /run && mount -t tmpfs none /var/run 2>/dev/null; exec "$@"`
	cmd := exec.CommandContext(testContext(t), unshare, "--mount", "sh", "-c", script, "sh",
		os.Args[0], "-test.run=^TestEngineUnreachable$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(),
		"VICTIM_UNREACHABLE_CHILD=1",
		"DOCKER_HOST=unix:///run/attack-replay-no-engine.sock",
		"HOME="+home,
		"XDG_RUNTIME_DIR="+filepath.Join(home, "run"),
		"DOCKER_CONFIG="+filepath.Join(home, "docker"),
	)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child test failed: %v\n%s", err, out)
	}
	if !bytes.Contains(out, []byte("unreachable engine reported:")) {
		t.Fatalf("child test did not check the error:\n%s", out)
	}
	t.Logf("child:\n%s", out)
}

func engineUnreachableChild(t *testing.T) {
	ctx := testContext(t)
	c, err := victim.Run(ctx, "", quietLogger(t))
	if c != nil {
		t.Errorf("Run returned a container without an engine")
	}
	if !errors.Is(err, victim.ErrEngineUnreachable) {
		t.Fatalf("Run error %v, want ErrEngineUnreachable", err)
	}
	for _, want := range []string{"DOCKER_HOST", "start the Docker engine"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if _, err := victim.Sweep(ctx, map[string]string{victim.LabelRun: "x"}); !errors.Is(err, victim.ErrEngineUnreachable) {
		t.Errorf("Sweep error %v, want ErrEngineUnreachable", err)
	}
	t.Logf("unreachable engine reported: %v", err)
}

func TestSweep(t *testing.T) {
	t.Parallel()
	img := requireImage(t)
	ctx := testContext(t)
	run := runID(t)
	var ids []string
	for range 2 {
		c, err := victim.Run(ctx, img, victim.WithRunID(run), victim.WithPrivileges(victim.PrivilegesDefault), quietLogger(t))
		if c != nil {
			ids = append(ids, c.ID())
		}
		if err != nil {
			t.Fatalf("run victim: %v", err)
		}
	}
	if _, err := victim.Sweep(ctx, nil); err == nil {
		t.Fatalf("Sweep with no labels succeeded; it must refuse to select every container")
	}
	removed, err := victim.Sweep(ctx, map[string]string{victim.LabelRun: run})
	if err != nil {
		t.Fatalf("sweep: %v", err)
	}
	slices.Sort(removed)
	slices.Sort(ids)
	if !slices.Equal(removed, ids) {
		t.Errorf("Sweep removed %v, want %v", removed, ids)
	}
	assertNoContainers(t, map[string]string{victim.LabelRun: run})
}

// TestPrivilegesAuto checks the auto mode against what the engine itself says: where a bare
// privileged container starts the victim must be privileged; elsewhere it must hold every
// capability but the dropped ones, and each dropped one must be refused on its own.
func TestPrivilegesAuto(t *testing.T) {
	t.Parallel()
	c := startVictim(t)
	ctx := testContext(t)
	probe := newEngineProbe(t)
	info, err := c.Inspect(ctx)
	if err != nil {
		t.Fatalf("inspect: %v", err)
	}
	lastCap := lastCapability(t, c)
	effective := capEff(t, c)

	if probe.starts(t, &container.HostConfig{Privileged: true}) {
		if c.Privileges() != victim.PrivilegesPrivileged || len(c.DroppedCapabilities()) > 0 || !info.HostConfig.Privileged {
			t.Fatalf("engine accepts privileged, victim runs %q dropping %v", c.Privileges(), c.DroppedCapabilities())
		}
		for i := range lastCap + 1 {
			if effective.Bit(i) == 0 {
				t.Errorf("privileged victim lacks capability %d", i)
			}
		}
		return
	}

	t.Logf("engine refuses privileged; victim dropped %v", c.DroppedCapabilities())
	if c.Privileges() != victim.PrivilegesCapabilities || info.HostConfig.Privileged {
		t.Fatalf("engine refuses privileged, victim runs %q (privileged %v)", c.Privileges(), info.HostConfig.Privileged)
	}
	dropped := c.DroppedCapabilities()
	if len(dropped) == 0 {
		t.Fatalf("engine refuses privileged but no capability was dropped")
	}
	for _, name := range dropped {
		if probe.starts(t, &container.HostConfig{CapAdd: []string{name}}) {
			t.Errorf("capability %s was dropped but the engine accepts it alone", name)
		}
	}
	// On this project's machine the engine lacks CAP_SYS_RESOURCE in its bounding set; the
	// check holds on any engine because it asks the engine first.
	if !probe.starts(t, &container.HostConfig{CapAdd: []string{"SYS_RESOURCE"}}) && !slices.Contains(dropped, "SYS_RESOURCE") {
		t.Errorf("the engine refuses SYS_RESOURCE but it is not among the dropped %v", dropped)
	}
	for i, name := range kernelCapabilities[:min(len(kernelCapabilities), lastCap+1)] {
		if has, want := effective.Bit(i) == 1, !slices.Contains(dropped, name); has != want {
			t.Errorf("capability %s in the victim: %v, want %v", name, has, want)
		}
	}
	for _, opt := range []string{"seccomp=unconfined", "apparmor=unconfined"} {
		if !slices.Contains(info.HostConfig.SecurityOpt, opt) {
			t.Errorf("security options %v lack %s", info.HostConfig.SecurityOpt, opt)
		}
	}
	if got := statusField(t, c, "Seccomp"); got != "0" {
		t.Errorf("victim runs under seccomp mode %s, want 0 (unconfined)", got)
	}
}

// TestPrivilegesFallbackLogsOnce starts victims on a fresh privilege cache and counts the
// log lines that announce dropped capabilities: one where the engine refuses privileged.
func TestPrivilegesFallbackLogsOnce(t *testing.T) {
	img := requireImage(t)
	ctx := testContext(t)
	probe := newEngineProbe(t)
	want := 0
	if !probe.starts(t, &container.HostConfig{Privileged: true}) {
		want = 1
	}
	victim.ResetPrivilegeCache()
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	run := runID(t)
	t.Cleanup(func() { assertNoContainers(t, map[string]string{victim.LabelRun: run}) })
	for range 2 {
		c, err := victim.Run(ctx, img, victim.WithRunID(run), victim.WithLogger(logger), quietLogger(t))
		if terr := c.Terminate(ctx); terr != nil {
			t.Errorf("terminate: %v", terr)
		}
		if err != nil {
			t.Fatalf("run victim: %v", err)
		}
	}
	got := strings.Count(logs.String(), "refuses privileged")
	if got != want {
		t.Fatalf("%d fallback log lines, want %d:\n%s", got, want, logs.String())
	}
	if want == 1 && !strings.Contains(logs.String(), "dropped_capabilities=") {
		t.Errorf("fallback log does not name the dropped capabilities:\n%s", logs.String())
	}
	t.Logf("log:\n%s", logs.String())
}

func TestPrivilegesPrivileged(t *testing.T) {
	t.Parallel()
	img := requireImage(t)
	ctx := testContext(t)
	run := runID(t)
	t.Cleanup(func() { assertNoContainers(t, map[string]string{victim.LabelRun: run}) })
	accepts := newEngineProbe(t).starts(t, &container.HostConfig{Privileged: true})

	c, err := victim.Run(ctx, img, victim.WithRunID(run), victim.WithPrivileges(victim.PrivilegesPrivileged), quietLogger(t))
	t.Cleanup(func() {
		if err := c.Terminate(context.Background()); err != nil {
			t.Errorf("terminate: %v", err)
		}
	})
	switch {
	case accepts && err != nil:
		t.Fatalf("engine accepts privileged, Run failed: %v", err)
	case accepts && c.Privileges() != victim.PrivilegesPrivileged:
		t.Fatalf("victim runs %q, want privileged", c.Privileges())
	case !accepts && err == nil:
		t.Fatalf("engine refuses privileged, yet Run with PrivilegesPrivileged succeeded")
	case !accepts:
		if !strings.Contains(err.Error(), "privileged") {
			t.Errorf("error %q does not say the privileged start failed", err)
		}
		t.Logf("refused as expected: %v", err)
	}
}

func TestPrivilegesDefault(t *testing.T) {
	t.Parallel()
	c := startVictim(t, victim.WithPrivileges(victim.PrivilegesDefault))
	if c.Privileges() != victim.PrivilegesDefault {
		t.Fatalf("victim runs %q, want default", c.Privileges())
	}
	if capEff(t, c).Bit(slices.Index(kernelCapabilities, "SYS_ADMIN")) == 1 {
		t.Errorf("a default victim holds SYS_ADMIN")
	}
	if got := statusField(t, c, "Seccomp"); got != "2" {
		t.Errorf("default victim runs under seccomp mode %s, want 2 (filter)", got)
	}
}

// TestImageTools is the integration check of the victim image: the tools the T1490 scenarios
// drive are present and work without systemd running.
func TestImageTools(t *testing.T) {
	t.Parallel()
	c := startVictim(t)
	for _, cmd := range [][]string{
		{"systemctl", "--version"},
		// Offline systemctl edits unit files; rescue.service is static, so this only checks
		// that the verb runs without a bus.
		{"systemctl", "disable", "rescue.service"},
		{"mkfs.ext4", "-V"},
		// `chattr --help` exits 1 (it prints usage); setting a flag is the real check. The
		// overlay root refuses inode flags here, tmpfs takes them.
		{"sh", "-c", "f=/dev/shm/ar-chattr && touch $f && chattr -V +i $f && lsattr $f && chattr -i $f && rm $f"},
		{"sh", "-c", "for t in mount umount setsid crontab ps ip nc curl modprobe useradd sudo ssh openssl python3 timeout; do command -v $t >/dev/null || { echo missing $t; exit 1; }; done"},
	} {
		out := mustExec(t, c, cmd...)
		t.Logf("%s:\n%s", strings.Join(cmd, " "), out)
	}
}

// engineProbe starts bare containers to ask the engine what it accepts, independently of the
// module under test.
type engineProbe struct {
	cli *testcontainers.DockerClient
	img string
}

func newEngineProbe(t *testing.T) engineProbe {
	t.Helper()
	img := requireImage(t)
	cli, err := testcontainers.NewDockerClientWithOpts(testContext(t))
	if err != nil {
		t.Fatalf("docker client: %v", err)
	}
	t.Cleanup(func() { _ = cli.Close() })
	return engineProbe{cli: cli, img: img}
}

func (p engineProbe) starts(t *testing.T, h *container.HostConfig) bool {
	t.Helper()
	ctx := testContext(t)
	h.NetworkMode = "none"
	res, err := p.cli.ContainerCreate(ctx, client.ContainerCreateOptions{
		Config:     &container.Config{Image: p.img, Cmd: []string{"true"}, Labels: map[string]string{victim.LabelProject: "1", victim.LabelRole: "test-probe"}},
		HostConfig: h,
	})
	if err != nil {
		// An engine that does not know a capability's name refuses it at create.
		if len(h.CapAdd) == 1 && strings.Contains(err.Error(), "unknown capability") {
			return false
		}
		t.Fatalf("create probe container: %v", err)
	}
	_, startErr := p.cli.ContainerStart(ctx, res.ID, client.ContainerStartOptions{})
	if _, err := p.cli.ContainerRemove(ctx, res.ID, client.ContainerRemoveOptions{Force: true}); err != nil {
		t.Fatalf("remove probe container: %v", err)
	}
	return startErr == nil
}

// kernelCapabilities are the capability names by bit number (linux/capability.h).
var kernelCapabilities = []string{
	"CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID",
	"SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW",
	"IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
	"SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD",
	"LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG",
	"WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE",
}

func lastCapability(t *testing.T, c *victim.Container) int {
	t.Helper()
	n, err := strconv.Atoi(strings.TrimSpace(mustExec(t, c, "cat", "/proc/sys/kernel/cap_last_cap")))
	if err != nil {
		t.Fatalf("read cap_last_cap: %v", err)
	}
	return n
}

// capEff is the effective capability mask of a root process in the victim.
func capEff(t *testing.T, c *victim.Container) *big.Int {
	t.Helper()
	v, ok := new(big.Int).SetString(statusField(t, c, "CapEff"), 16)
	if !ok {
		t.Fatalf("CapEff is not hexadecimal")
	}
	return v
}

// statusField reads one field of /proc/self/status of a process exec'd in the victim.
func statusField(t *testing.T, c *victim.Container, field string) string {
	t.Helper()
	for line := range strings.Lines(mustExec(t, c, "cat", "/proc/self/status")) {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("/proc/self/status has no %s", field)
	return ""
}

// TestCancelledRunLeavesNothing cancels victim starts at random moments, as Ctrl-C cancels a
// run, with the privilege probe of a first victim each time: once Run returns and what it
// returned is terminated, no container of the run may be left, probes included. The engine
// finishes a create the client stopped waiting for, so a create cut short would leave one.
func TestCancelledRunLeavesNothing(t *testing.T) {
	img := requireImage(t)
	run := runID(t)
	t.Cleanup(victim.ResetPrivilegeCache) // the next test finds out again, uncancelled
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	for i := range 10 {
		victim.ResetPrivilegeCache()
		ctx, cancel := context.WithCancel(context.Background())
		after := time.Duration(rng.Int64N(int64(2 * time.Second)))
		time.AfterFunc(after, cancel)
		c, err := victim.Run(ctx, img, victim.WithRunID(run), quietLogger(t))
		if c != nil {
			if err := c.Terminate(context.Background()); err != nil {
				t.Errorf("attempt %d (cancelled after %s): terminate: %v", i+1, after, err)
			}
		}
		cancel()
		t.Logf("attempt %d: cancelled after %s: %v", i+1, after, err)
	}
	assertNoContainers(t, map[string]string{victim.LabelRun: run})
}
