package falco

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	tcexec "github.com/testcontainers/testcontainers-go/exec"
	tclog "github.com/testcontainers/testcontainers-go/log"
	"gopkg.in/yaml.v3"

	"github.com/attack-replay/attack-replay/harness/alert"
	"github.com/attack-replay/attack-replay/harness/falco/falcotest"
)

// These tests run the module for real — Docker, privileges fallback,
// mounts, the transports, readiness, crash detection — against the
// stand-in images (standin_test.go), since no Falco image exists here.

func runStandin(t *testing.T, version string, opts ...Option) (*Container, time.Duration, error) {
	t.Helper()
	ctx := context.Background()
	img := standinImage(t, version)
	start := time.Now()
	opts = append([]Option{WithLogger(elapsedLogger{tclog.TestLogger(t), start}), WithStartupTimeout(60 * time.Second)}, opts...)
	c, err := Run(ctx, img, opts...)
	elapsed := time.Since(start)
	if c != nil {
		t.Cleanup(func() {
			if err := c.Terminate(context.Background()); err != nil {
				t.Errorf("terminate: %v", err)
			}
		})
	}
	return c, elapsed, err
}

// elapsedLogger prefixes messages with the time since Run was called.
type elapsedLogger struct {
	l     Logger
	start time.Time
}

func (e elapsedLogger) Printf(format string, v ...any) {
	e.l.Printf("[%6.3fs] "+format, append([]any{time.Since(e.start).Seconds()}, v...)...)
}

// barrierRoundTrip execs the marker with a fresh token and waits for its
// alert through the hub.
func barrierRoundTrip(t *testing.T, c *Container, token string) alert.Alert {
	t.Helper()
	w := c.Hub().Barrier(token)
	execIn(t, c, []string{alert.EnvBarrier + "=" + token}, falcoBinary, "--version")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	a, err := w.Wait(ctx)
	if err != nil {
		t.Fatalf("barrier %q: %v", token, err)
	}
	if a.Fields[alert.FieldBarrier] != token || a.Rule != alert.BarrierRule {
		t.Fatalf("barrier alert = %+v", a)
	}
	return a
}

func inspect(t *testing.T, c *Container) *client.ContainerInspectResult {
	t.Helper()
	res, err := c.cli.ContainerInspect(context.Background(), c.GetContainerID(), client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return &res
}

func TestRunGRPCReadyThenCrash(t *testing.T) {
	c, elapsed, err := runStandin(t, "0.43.1", WithRules("testdata/rules/rm_rf.yaml"), WithRunID("test-grpc"))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("ready in %s, %s", elapsed, c.Privileges())
	if c.Version() != v431 || c.Transport() != TransportGRPC || c.Engine() != DefaultEngine || !c.ContainerFields() {
		t.Errorf("version %v, transport %v, engine %v, container fields %v", c.Version(), c.Transport(), c.Engine(), c.ContainerFields())
	}
	if p := c.Privileges(); !p.Privileged && !(slices.Contains(p.CapAdd, "SYS_ADMIN") && slices.Contains(p.CapAdd, "SYS_PTRACE")) {
		t.Errorf("privileges = %+v", p)
	}
	if s := c.Hub().Stats(); s.Barriers < 1 {
		t.Errorf("hub stats = %+v, want the canary counted", s)
	}

	// The container is shaped as fixtures/falco/FACTS.md says Falco needs.
	info := inspect(t, c).Container
	labels := info.Config.Labels
	if labels[LabelApp] != "1" || labels[LabelRole] != RoleFalco || labels[LabelRun] != "test-grpc" || c.RunID() != "test-grpc" {
		t.Errorf("labels = %v", labels)
	}
	hc := info.HostConfig
	if hc.PidMode != "host" || !slices.Contains(hc.SecurityOpt, "seccomp=unconfined") || !slices.Contains(hc.Binds, "/proc:/host/proc:ro") ||
		!slices.ContainsFunc(hc.Binds, func(b string) bool { return strings.HasSuffix(b, ":"+hostDockerSock) }) ||
		!slices.Contains(hc.Binds, c.sockDir+":"+GRPCSocketDir) {
		t.Errorf("host config: pid %q, security %q, binds %q", hc.PidMode, hc.SecurityOpt, hc.Binds)
	}
	if want := []string{"-U", "-o", "watch_config_files=false", "-r", RulesDir + "/01-rm_rf.yaml", "-r", RulesDir + "/02-attack-replay-barrier.yaml"}; !slices.Equal(info.Config.Cmd, want) {
		t.Errorf("cmd = %q, want %q", info.Config.Cmd, want)
	}

	// The drop-in is a single file: the image's plugin drop-in is still
	// there and was loaded.
	rc, err := c.CopyFileFromContainer(context.Background(), ConfigDropIn)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if string(got) != string(c.Config()) {
		t.Errorf("drop-in in the container differs from Config()")
	}
	logs := strings.Join(c.LogTail(0), "\n")
	for _, want := range []string{"/etc/falco/config.d/falco.container_plugin.yaml", "Loaded plugin 'container", RulesDir + "/01-rm_rf.yaml | schema validation: ok"} {
		if !strings.Contains(logs, want) {
			t.Errorf("falco's log lacks %q:\n%s", want, logs)
		}
	}

	a := barrierRoundTrip(t, c, "after-ready")
	if a.Transport != alert.TransportGRPC {
		t.Errorf("barrier came by %q", a.Transport)
	}

	// Falco dies mid-run: a waiter gets the exit code and last log lines.
	w := c.Hub().Barrier("never-sent")
	if err := falcotest.Exit(context.Background(), c.GetContainerID(), 3); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	_, err = w.Wait(ctx)
	var exit *ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("waiter got %v, want an *ExitError", err)
	}
	t.Logf("waiter failed %s after the exit request", time.Since(start))
	if exit.ExitCode != 3 || exit.Phase != PhaseRun || !slices.ContainsFunc(exit.LogTail, func(l string) bool { return strings.Contains(l, "standin: exiting with code 3") }) {
		t.Errorf("exit error = %+v", exit)
	}
	if !errors.Is(c.Err(), exit) && c.Err() != error(exit) {
		t.Errorf("Err() = %v", c.Err())
	}
	sockDir := c.sockDir
	if err := c.Terminate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(sockDir); !os.IsNotExist(err) {
		t.Errorf("temporary directory %s left behind: %v", sockDir, err)
	}
	if _, err := c.cli.ContainerInspect(context.Background(), c.GetContainerID(), client.ContainerInspectOptions{}); err == nil {
		t.Error("container left behind")
	}
}

func TestRunHTTPImageRulesAndDrops(t *testing.T) {
	c, elapsed, err := runStandin(t, "0.44.1",
		WithImageRules(true), WithExtraRules("testdata/rules/macros.yaml"), WithRules("testdata/rules/recovery.yaml"),
		WithExtraHosts("kubernetes.default.svc.cluster.local:127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("ready in %s", elapsed)
	if c.Transport() != TransportHTTP || c.Version() != v441 {
		t.Fatalf("transport %v, version %v", c.Transport(), c.Version())
	}
	info := inspect(t, c).Container
	if info.HostConfig.NetworkMode != "host" {
		t.Errorf("network mode %q, want host (the receiver is on the host's loopback)", info.HostConfig.NetworkMode)
	}
	// Extra hosts reach /etc/hosts on the host's network too.
	rc, err := c.CopyFileFromContainer(context.Background(), "/etc/hosts")
	if err != nil {
		t.Fatal(err)
	}
	hosts, _ := io.ReadAll(rc)
	rc.Close()
	if !strings.Contains(string(hosts), "127.0.0.1\tkubernetes.default.svc.cluster.local") {
		t.Errorf("/etc/hosts of the Falco container lacks the extra host:\n%s", hosts)
	}
	if want := []string{"-r", ImageRulesFile, "-r", RulesDir + "/01-macros.yaml", "-r", RulesDir + "/02-recovery.yaml"}; !slices.Equal(info.Config.Cmd[3:9], want) {
		t.Errorf("cmd = %q, want the rules in load order %q", info.Config.Cmd, want)
	}
	var cfg struct {
		HTTPOutput struct{ URL string } `yaml:"http_output"`
		Webserver  struct {
			ListenPort int `yaml:"listen_port"`
		}
		Rules []map[string]map[string]string
	}
	if err := yaml.Unmarshal(c.Config(), &cfg); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(cfg.HTTPOutput.URL, "http://127.0.0.1:") || cfg.Webserver.ListenPort == 0 {
		t.Errorf("http_output %+v, webserver %+v", cfg.HTTPOutput, cfg.Webserver)
	}
	if len(cfg.Rules) != 4 || cfg.Rules[0]["disable"]["rule"] != "*" || cfg.Rules[2]["enable"]["rule"] != "Disable recovery features" || cfg.Rules[3]["enable"]["rule"] != "Read shadow" {
		t.Errorf("rules selection = %v", cfg.Rules)
	}

	// Two seconds with drops, then a barrier: the drop alerts came first.
	execIn(t, c, nil, falcoBinary, "standin-ctl", "drop", "5")
	execIn(t, c, nil, falcoBinary, "standin-ctl", "drop", "7")
	a := barrierRoundTrip(t, c, "after-drops")
	if a.Transport != alert.TransportHTTP {
		t.Errorf("barrier came by %q", a.Transport)
	}
	if c.Drops() != 2 || c.DroppedEvents() != 12 {
		t.Errorf("drops %d, dropped events %d; want 2, 12", c.Drops(), c.DroppedEvents())
	}
	w := c.Hub().Barrier("after-terminate")
	if err := c.Terminate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if d := c.logs.dropLog(); !d.hasSummary || d.summary != 2 || c.Drops() != 2 {
		t.Errorf("exit summary %+v, Drops() %d", d, c.Drops())
	}
	if _, err := w.Wait(context.Background()); !errors.Is(err, ErrTerminated) {
		t.Errorf("waiter after Terminate got %v, want ErrTerminated", err)
	}
}

func TestRunGRPCOverTCP(t *testing.T) {
	c, elapsed, err := runStandin(t, "0.43.1", WithGRPCOverTCP(), WithRules("testdata/rules/rm_rf.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("ready in %s", elapsed)
	if !strings.Contains(string(c.Config()), "bind_address: 0.0.0.0:5060") || !strings.Contains(string(c.Config()), "root_certs: "+grpcCertsDir+"/ca.crt") {
		t.Errorf("config:\n%s", c.Config())
	}
	barrierRoundTrip(t, c, "over-tcp")
}

func TestRunFailsAtStart(t *testing.T) {
	for _, version := range []string{"0.43.1", "0.44.1"} { // gRPC waits for its socket, HTTP for the canary
		t.Run("rules "+version, func(t *testing.T) {
			c, elapsed, err := runStandin(t, version, WithRules("testdata/rules/rm_rf.yaml"),
				WithContainerCustomizers(testcontainers.WithEnv(map[string]string{"STANDIN_REPLAY": "start-fails-invalid-rules-0.43.1.stderr"})))
			if err == nil {
				t.Fatal("Run succeeded")
			}
			t.Logf("failed after %s:\n%v", elapsed, err)
			if c == nil {
				t.Error("no container returned with the error")
			}
			var exit *ExitError
			var rules *RulesError
			if !errors.As(err, &exit) || !errors.As(err, &rules) {
				t.Fatalf("error %T: %v; want an *ExitError wrapping a *RulesError", err, err)
			}
			if exit.Phase != PhaseStart || exit.ExitCode != 1 || !strings.HasPrefix(err.Error(), "run falco: falco exited with code 1 during start") {
				t.Errorf("exit error = %+v", exit)
			}
			if rules.File != "testdata/rules/rm_rf.yaml" || rules.Line != 4 || rules.Column != 11 || rules.Code != "LOAD_ERR_COMPILE_OUTPUT" {
				t.Errorf("rules error at %s:%d:%d %s, want testdata/rules/rm_rf.yaml:4:11 LOAD_ERR_COMPILE_OUTPUT", rules.File, rules.Line, rules.Column, rules.Code)
			}
		})
	}
	t.Run("memlock", func(t *testing.T) {
		_, _, err := runStandin(t, "0.43.1", WithRules("testdata/rules/rm_rf.yaml"),
			WithContainerCustomizers(testcontainers.WithEnv(map[string]string{"STANDIN_REPLAY": "start-fails-memlock-0.40.0.stderr"})))
		var exit *ExitError
		if !errors.As(err, &exit) || exit.Driver == nil || exit.Driver.Cause != DriverMemlock || exit.Message != "unable to configure the libpman state." || exit.Rules != nil {
			t.Fatalf("error = %v", err)
		}
		t.Logf("the error a user sees:\n%v", err)
		// The stand-in starts with every capability this engine grants: the hint says which.
		if !strings.Contains(err.Error(), "\nseen: Falco ran ") {
			t.Errorf("the hint does not say how Falco was started:\n%v", err)
		}
	})
	t.Run("verifier", func(t *testing.T) {
		_, _, err := runStandin(t, "0.43.1", WithRules("testdata/rules/rm_rf.yaml"),
			WithContainerCustomizers(testcontainers.WithEnv(map[string]string{"STANDIN_REPLAY": "start-fails-verifier-0.43.1.reconstructed.stderr"})))
		var exit *ExitError
		if !errors.As(err, &exit) || exit.Driver == nil || exit.Driver.Cause != DriverVerifier || exit.Driver.Program != "signal_deliver" ||
			exit.Message != "Initialization issues during scap_init" || strings.Contains(exit.Hint, "memlock") {
			t.Fatalf("error = %v", err)
		}
		t.Logf("the error a user sees:\n%v", err)
	})
}

// neverFires is a marker that fails the way a missing binary does.
type neverFires struct{}

func (neverFires) Exec(context.Context, []string, ...tcexec.ProcessOption) (int, io.Reader, error) {
	return 127, strings.NewReader(""), nil
}

func TestRunNotReady(t *testing.T) {
	c, elapsed, err := runStandin(t, "0.44.1", WithMarker(neverFires{}, "/no/such/marker"), WithStartupTimeout(3*time.Second))
	if err == nil {
		t.Fatal("Run succeeded without a canary")
	}
	t.Logf("gave up after %s", elapsed)
	for _, want := range []string{"falco not ready after", "no canary alert", `"/no/such/marker" exited with code 127`, alert.ErrBarrierTimeout.Error(), "last log lines:"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if c == nil || c.Err() != nil {
		t.Errorf("container %v, Err %v: Falco still runs", c, c.Err())
	}
}

func TestRunAbsentImage(t *testing.T) {
	if _, err := testcontainers.NewDockerClientWithOpts(context.Background()); err != nil {
		t.Skipf("docker engine not reachable: %v", err)
	}
	start := time.Now()
	c, err := Run(context.Background(), "attack-replay/no-such-falco:0.0.0")
	t.Logf("failed after %s: %v", time.Since(start), err)
	if !errors.Is(err, ErrImageUnavailable) || !strings.Contains(err.Error(), EnvImage) || !strings.HasPrefix(err.Error(), "run falco: ") || c != nil {
		t.Errorf("Run = %v, %v", c, err)
	}
	start = time.Now()
	err = CheckImage(context.Background(), "attack-replay/no-such-falco:0.0.0")
	t.Logf("CheckImage failed after %s", time.Since(start))
	if !errors.Is(err, ErrImageUnavailable) || !strings.Contains(err.Error(), "set FALCO_IMAGE to a Falco image present here") {
		t.Errorf("CheckImage = %v", err)
	}
	if err := CheckImage(context.Background(), ""); !errors.Is(err, ErrImageUnavailable) || !strings.Contains(err.Error(), EnvImage) {
		t.Errorf("CheckImage(\"\") = %v", err)
	}
}

func TestValidateStandin(t *testing.T) {
	img := standinImage(t, "0.43.1")
	ctx := context.Background()
	dir := fixtures + "/validate/"

	results, err := Validate(ctx, img, dir+"good.yaml", dir+"bad_cond.yaml", dir+"warn.yaml")
	var rules *RulesError
	if !errors.As(err, &rules) {
		t.Fatalf("error = %v, want a *RulesError", err)
	}
	if rules.File != dir+"bad_cond.yaml" || rules.Line != 3 || rules.Column != 14 || rules.Code != "LOAD_ERR_COMPILE_CONDITION" {
		t.Errorf("rules error = %s:%d:%d %s", rules.File, rules.Line, rules.Column, rules.Code)
	}
	wantStatus := []LoadStatus{StatusOk, StatusInvalid, StatusNotChecked}
	for i, r := range results {
		if i >= len(wantStatus) || r.Status != wantStatus[i] {
			t.Errorf("result %d = %s %q", i, r.File, r.Status)
		}
	}

	results, err = Validate(ctx, img, dir+"warn.yaml")
	if err != nil || len(results) != 1 || results[0].Status != StatusOkWarnings || results[0].Warnings[0].Code != "LOAD_NO_EVTTYPE" ||
		results[0].Warnings[0].Position().File != dir+"warn.yaml" {
		t.Errorf("warn.yaml: %+v, %v", results, err)
	}

	_, err = Validate(ctx, img, dir+"yaml_err.yaml")
	if !errors.As(err, &rules) || rules.Line != 3 || rules.Column != 13 || rules.Code != "LOAD_ERR_YAML_PARSE" {
		t.Errorf("yaml_err.yaml: %v", err)
	}

	// A verdict Falco did not give (the stand-in has no recording for
	// this set) surfaces Falco's stderr and exit code.
	if _, err := Validate(ctx, img, dir+"good.yaml"); err == nil || !strings.Contains(err.Error(), "without a verdict") {
		t.Errorf("unrecorded set: %v", err)
	}
	if _, err := Validate(ctx, img, dir+"absent.yaml"); err == nil || !strings.Contains(err.Error(), "absent.yaml") {
		t.Errorf("absent file: %v", err)
	}
}

// BenchmarkRunToReady measures what the module adds to Falco's own start:
// probe, privileges, mounts and the canary round trip (the stand-in
// "captures" at once). The first Run of a process also negotiates
// privileges; later ones reuse what the engine accepted.
func BenchmarkRunToReady(b *testing.B) {
	img := standinImage(b, "0.44.1")
	ctx := context.Background()
	for b.Loop() {
		c, err := Run(ctx, img, WithRules("testdata/rules/rm_rf.yaml"), WithLogger(tclog.NewNoopLogger()))
		if err != nil {
			if c != nil {
				_ = c.Terminate(ctx)
			}
			b.Fatal(err)
		}
		b.StopTimer()
		if err := c.Terminate(ctx); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

// TestCancelledRunLeavesNothing cancels Falco's start at random moments, as Ctrl-C does: once
// what Run returned is terminated, no container of the run may be left, the version probe's
// included, and no temporary directory. The engine finishes a create the client stopped
// waiting for, so a create cut short would leave one.
func TestCancelledRunLeavesNothing(t *testing.T) {
	img := standinImage(t, "0.43.1")
	run := "test-cancel-" + newID()
	t.Setenv("TMPDIR", t.TempDir()) // the run's temporary directories, and no one else's
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 2))
	for i := range 8 {
		ctx, cancel := context.WithCancel(context.Background())
		after := time.Duration(rng.Int64N(int64(1500 * time.Millisecond)))
		time.AfterFunc(after, cancel)
		c, err := Run(ctx, img, WithRules("testdata/rules/rm_rf.yaml"), WithRunID(run), WithStartupTimeout(30*time.Second))
		if c != nil {
			if err := c.Terminate(context.Background()); err != nil {
				t.Errorf("attempt %d (cancelled after %s): terminate: %v", i+1, after, err)
			}
		}
		cancel()
		t.Logf("attempt %d: cancelled after %s: %v", i+1, after, err)
		if err != nil && strings.Contains(err.Error(), "refused even the minimal") {
			t.Errorf("attempt %d: a cancelled start reads as a refusal: %v", i+1, err)
		}
	}
	cli, err := testcontainers.NewDockerClientWithOpts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	left, err := cli.ContainerList(context.Background(), client.ContainerListOptions{All: true, Filters: make(client.Filters).Add("label", LabelRun+"="+run)})
	if err != nil || len(left.Items) > 0 {
		t.Errorf("containers of the run left: %d, %v", len(left.Items), err)
	}
	if left, _ := filepath.Glob(filepath.Join(os.TempDir(), "attack-replay-falco-*")); len(left) > 0 {
		t.Errorf("temporary directories left: %v", left)
	}
}
