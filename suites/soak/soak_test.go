package soak

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/attack-replay/attack-replay/harness/falco"
	"github.com/attack-replay/attack-replay/harness/falco/falcotest"
	"github.com/attack-replay/attack-replay/harness/report"
	"github.com/attack-replay/attack-replay/harness/rules"
	"github.com/attack-replay/attack-replay/harness/scenario"
	"github.com/attack-replay/attack-replay/harness/victim"
)

const (
	// suiteTimeout is every run's -ginkgo.timeout; a run must end within
	// it plus overrun.
	suiteTimeout = 90 * time.Second
	overrun      = 10 * time.Second
	rulesDir     = "harness/session/testdata/rules"
	setsDir      = "suites/soak/testdata"
)

// bench is what every run shares: the stand-in image and the suite binary.
type bench struct {
	root  string // module root
	suite string // suites/techniques compiled with the rules and soakhook tags
	image string // stand-in Falco image
	work  string // runs' directories
}

// shared is the bench of every test of the binary, built by the first
// that needs it; TestMain removes its images.
var shared struct {
	mu     sync.Mutex
	b      *bench
	images []string
}

// newBench builds the stand-in image and the suite once per test binary,
// or skips the test when no Docker engine answers or the victim image is
// not built.
func newBench(t *testing.T) *bench {
	t.Helper()
	if testing.Short() {
		t.Skip("skipped in -short mode: runs the suite against a stand-in Falco")
	}
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.b != nil {
		return shared.b
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if ok, err := victim.ImagePresent(ctx, victim.DefaultImage); err != nil || !ok {
		t.Skipf("victim image %q is not built (%v): run `make victim-image`", victim.DefaultImage, err)
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	work, err := os.MkdirTemp("", "attack-replay-soak-")
	if err != nil {
		t.Fatal(err)
	}
	b := &bench{root: root, work: work}
	b.suite = filepath.Join(b.work, "techniques.test")
	build := exec.CommandContext(ctx, "go", "test", "-c", "-tags", "rules,soakhook", "-o", b.suite, "./suites/techniques")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the suite: %v\n%s", err, out)
	}
	b.image = standinImage(t)
	shared.b = b
	return b
}

// standinImage builds a stand-in Falco 0.43.1 image, removed by TestMain.
func standinImage(t *testing.T, opts ...falcotest.Option) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	img, err := falcotest.BuildStandin(ctx, "0.43.1", opts...)
	if errors.Is(err, falcotest.ErrEngineUnreachable) {
		t.Skipf("no stand-in Falco image: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	shared.images = append(shared.images, img)
	t.Logf("stand-in Falco image %s (removed when the tests end)", img)
	return img
}

// TestMain removes what the bench built.
func TestMain(m *testing.M) {
	code := m.Run()
	for _, img := range shared.images {
		if err := falcotest.Remove(context.Background(), img); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	if shared.b != nil {
		_ = os.RemoveAll(shared.b.work)
	}
	os.Exit(code)
}

// order is the attempt number of each scenario of a set (relay).
func (b *bench) order(t *testing.T, set string) map[string]int {
	t.Helper()
	idx, err := rules.LoadPaths(filepath.Join(b.root, rulesDir))
	if err != nil {
		t.Fatal(err)
	}
	s, err := scenario.LoadDir(filepath.Join(b.root, setsDir, set), scenario.Options{Rules: idx})
	if err != nil {
		t.Fatal(err)
	}
	order := map[string]int{}
	for i, sc := range s.Scenarios() {
		order[sc.ID] = i + 1
	}
	return order
}

// run is one run of the suite in progress.
type run struct {
	cmd     *exec.Cmd
	relay   *relay
	out     *syncBuffer
	rng     *rand.Rand
	env     []string // extra variables of the suite
	reports string
	notes   []string // what the fault did, for the failure message
}

// waitOutput waits until the suite has printed s; false when ctx ends first.
func (r *run) waitOutput(ctx context.Context, s string) bool {
	return poll(ctx, func() bool { return strings.Contains(r.out.String(), s) })
}

func (r *run) signal(sig syscall.Signal) {
	r.notes = append(r.notes, fmt.Sprintf("sent %v", sig))
	_ = r.cmd.Process.Signal(sig)
}

// pause waits a random moment up to max.
func (r *run) pause(ctx context.Context, max time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(time.Duration(r.rng.Int64N(int64(max)))):
	}
}

// runningFalco waits for the run's running Falco container and returns its
// id, "" when ctx ends first. The engine's ps, not the relay's events:
// those can lag the suite's output.
func (r *run) runningFalco(ctx context.Context) string {
	var id string
	poll(ctx, func() bool {
		for _, run := range r.relay.runIDs() {
			ids, err := dockerLines("ps", "-q", "--no-trunc", "--filter", "status=running",
				"--filter", "label="+falco.LabelRole+"="+falco.RoleFalco, "--filter", "label="+falco.LabelRun+"="+run)
			if err == nil && len(ids) == 1 {
				id = ids[0]
				return true
			}
		}
		return false
	})
	return id
}

// docker runs a docker command against the real engine.
func (r *run) docker(args ...string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Env = engineEnv()
	out, err := cmd.CombinedOutput()
	r.notes = append(r.notes, fmt.Sprintf("docker %s: %v %s", strings.Join(args, " "), err, strings.TrimSpace(string(out))))
}

// result is what a run left: its exit status, output and reports.
type result struct {
	exit       int
	elapsed    time.Duration
	out        string
	report     *report.Report // nil when report.json is missing or unreadable
	reportErr  error
	reportSize int64
}

// fault is one kind of injected fault: the scenario set it runs, what it
// does while the suite runs, and what the suite must do about it.
type fault struct {
	name   string
	set    string   // directory under testdata
	env    []string // extra variables of the suite
	inject func(ctx context.Context, r *run)
	check  check
	// slowEngine, when set, puts a proxy delaying each request by this
	// much between the suite and the Docker engine.
	slowEngine time.Duration
}

// progressLine is the prefix of the suite's progress line after n scenarios
// (suites/techniques: Progress.Report).
func progressLine(n int) string { return fmt.Sprintf("attack-replay: [%d/", n) }

// falcoReady is the session's log line once Falco is ready.
const falcoReady = `msg="falco ready"`

var faults = []fault{
	{name: "none", set: "pass", check: all(exits(0), counts(2, 0, 0))},
	{name: "failing scenario", set: "fail", check: all(exits(1), counts(1, 1, 0))},
	{name: "step hangs past its timeout", set: "hang", check: all(exits(1), counts(1, 0, 1), reasonHas("timed out"))},
	{name: "step prints 100 MB", set: "flood", check: all(exits(0), counts(1, 0, 0), reportUnder(1<<20))},
	{name: "panic after a verdict", set: "pass", env: []string{"SOAK_PANIC_AFTER=soak-list"},
		check: all(exits(1), counts(2, 0, 0), outputHas("soak: injected panic after the verdict of soak-list"))},
	{name: "SIGINT before Falco is ready", set: "slow", inject: func(ctx context.Context, r *run) {
		// Once the run's Falco container has started, before its canary.
		if poll(ctx, func() bool { return r.relay.falcoContainer() != "" }) {
			r.pause(ctx, time.Second)
			r.signal(syscall.SIGINT)
		}
	}, check: all(exits(1), interrupted)},
	{name: "SIGINT mid-steps", set: "slow", inject: func(ctx context.Context, r *run) {
		if r.waitOutput(ctx, falcoReady) {
			r.pause(ctx, 5*time.Second)
			r.signal(syscall.SIGINT)
		}
	}, check: all(exits(1), interrupted)},
	{name: "SIGINT during teardown", set: "pass", inject: func(ctx context.Context, r *run) {
		if r.waitOutput(ctx, progressLine(2)) {
			r.pause(ctx, 100*time.Millisecond)
			r.signal(syscall.SIGINT)
		}
	}, check: lateInterrupt(all(exits(0), counts(2, 0, 0)), all(exits(1), interrupted))},
	{name: "SIGTERM mid-steps", set: "slow", inject: func(ctx context.Context, r *run) {
		if r.waitOutput(ctx, falcoReady) {
			r.pause(ctx, 5*time.Second)
			r.signal(syscall.SIGTERM)
		}
	}, check: all(exits(1), interrupted)},
	{name: "Falco killed mid-run", set: "slow", inject: func(ctx context.Context, r *run) {
		if r.waitOutput(ctx, progressLine(1)) {
			r.docker("kill", r.runningFalco(ctx))
		}
	}, check: all(exits(1), erred(2), reasonHas("falco"))},
	{name: "Falco paused", set: "slow", inject: func(ctx context.Context, r *run) {
		if r.waitOutput(ctx, falcoReady) {
			r.docker("pause", r.runningFalco(ctx))
		}
	}, check: all(exits(1), erred(3), reasonHas("barrier"))},
	{name: "victim killed mid-step", set: "slow", inject: func(ctx context.Context, r *run) {
		// The second scenario's step sleeps 3 s.
		var id string
		if poll(ctx, func() bool { id = r.relay.stepVictim(1); return id != "" }) {
			r.pause(ctx, 1500*time.Millisecond)
			r.docker("kill", id)
		}
	}, check: all(exits(1), counts(2, 0, 1))},
	{name: "slow Docker engine", set: "pass", slowEngine: 20 * time.Millisecond, check: all(exits(0), counts(2, 0, 0))},
}

// soak runs n runs, fault by fault in an order shuffled by seed, and
// prints the table. Every run's problems fail the test.
func soak(t *testing.T, n int, seed uint64) {
	b := newBench(t)
	t.Logf("soak: %d runs, seed %d (SOAK_SEED=%d replays this order)", n, seed, seed)
	rng := rand.New(rand.NewPCG(seed, seed))
	order := faultsFromEnv(t)
	rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	var tab table
	for i := range n {
		f := order[i%len(order)]
		res, problems := b.runOnce(t, i, f, rng)
		tab.add(f.name, res.elapsed, problems)
		failing := slices.DeleteFunc(slices.Clone(problems), func(p string) bool {
			return strings.HasPrefix(p, lateRemoval) || strings.HasPrefix(p, "fault: ")
		})
		if len(failing) > 0 {
			t.Errorf("run %d (%s): %s\n%s", i+1, f.name, strings.Join(problems, "; "), tail(res.out, 4000))
		} else if len(problems) > 0 {
			t.Logf("run %d (%s): ok in %v; %s", i+1, f.name, res.elapsed.Round(100*time.Millisecond), strings.Join(problems, "; "))
		} else {
			t.Logf("run %d (%s): ok in %v", i+1, f.name, res.elapsed.Round(100*time.Millisecond))
		}
		// A long soak shows where it stands after each round of faults.
		if (i+1)%len(order) == 0 && i+1 < n {
			t.Logf("after %d runs:\n%s", i+1, tab.String())
		}
	}
	t.Log("\n" + tab.String())
}

// runOnce runs the suite once with fault f and returns what it did and
// every check that failed.
func (b *bench) runOnce(t *testing.T, i int, f fault, rng *rand.Rand) (result, []string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), fmt.Sprintf("run-%03d", i+1))
	tmp := filepath.Join(dir, "tmp")
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	before, err := takeSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	rl, err := startRelay(b.image, b.order(t, f.set))
	if err != nil {
		t.Fatal(err)
	}
	r := &run{relay: rl, out: &syncBuffer{}, rng: rng, reports: filepath.Join(dir, "reports")}
	cmd := exec.Command(b.suite, "-test.run", "^TestTechniques$", "-test.timeout", (suiteTimeout + 2*overrun).String(),
		"-ginkgo.timeout", suiteTimeout.String(), "-ginkgo.no-color")
	cmd.Dir = filepath.Join(b.root, "suites", "techniques")
	cmd.Env = append(suiteEnv(), "TMPDIR="+tmp, "FALCO_IMAGE="+b.image, "RULES="+rulesDir, "SCENARIOS="+filepath.Join(setsDir, f.set),
		"REPORT_DIR="+r.reports, "WORKERS=1", "REPEAT=1", "BARRIER_TIMEOUT=2s")
	cmd.Env = append(cmd.Env, f.env...)
	var slow *slowEngine
	if f.slowEngine > 0 {
		if slow, err = startSlowEngine(filepath.Join(dir, "engine.sock"), f.slowEngine); err != nil {
			t.Fatal(err)
		}
		cmd.Env = append(cmd.Env, "DOCKER_HOST=unix://"+slow.path)
	}
	cmd.Stdout, cmd.Stderr = r.out, r.out
	r.cmd = cmd
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	injected := make(chan struct{})
	go func() {
		defer close(injected)
		if f.inject != nil {
			f.inject(ctx, r)
		}
	}()
	// The bound is checked below; this only keeps a wedged run from
	// wedging the soak.
	killer := time.AfterFunc(suiteTimeout+3*overrun, func() { _ = cmd.Process.Kill() })
	waitErr := cmd.Wait()
	elapsed := time.Since(start)
	killer.Stop()
	cancel()
	<-injected
	if slow != nil {
		slow.close()
	}
	rl.stop()

	res := result{exit: cmd.ProcessState.ExitCode(), elapsed: elapsed, out: r.out.String()}
	var exitErr *exec.ExitError
	if waitErr != nil && !errors.As(waitErr, &exitErr) {
		t.Fatalf("run %d: %v", i+1, waitErr)
	}
	jsonPath := filepath.Join(r.reports, report.JSONFile)
	if fi, err := os.Stat(jsonPath); err == nil {
		res.reportSize = fi.Size()
	}
	res.report, res.reportErr = report.Load(jsonPath)

	var problems []string
	if err := f.check(res); err != nil {
		problems = append(problems, err.Error())
	}
	if elapsed > suiteTimeout+overrun {
		problems = append(problems, fmt.Sprintf("took %v, over its timeout %v + %v", elapsed.Round(time.Second), suiteTimeout, overrun))
	}
	problems = append(problems, leaks(before, rl, b.image, tmp)...)
	if len(problems) > 0 && len(r.notes) > 0 {
		problems = append(problems, "fault: "+strings.Join(r.notes, ", "))
	}
	return res, problems
}

// suiteEnv is the environment of the suite: this process's, without the
// configuration of a user's or an outer make's run.
func suiteEnv() []string {
	return slices.DeleteFunc(os.Environ(), func(kv string) bool {
		name, _, _ := strings.Cut(kv, "=")
		return strings.HasPrefix(name, "FALCO_") || strings.HasPrefix(name, "VICTIM_") || strings.HasPrefix(name, "SOAK_") ||
			slices.Contains([]string{"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "TECHNIQUES", "TACTICS", "WORKERS", "REPEAT",
				"BARRIER_TIMEOUT", "BARRIER_GRACE", "GINKGO_FLAGS", "TMPDIR"}, name)
	})
}

// engineEnv is the environment of this soak's own docker commands: the
// real engine.
func engineEnv() []string { return os.Environ() }

func poll(ctx context.Context, ok func() bool) bool {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !ok() {
		select {
		case <-ctx.Done():
			return false
		case <-tick.C:
		}
	}
	return true
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// faultsFromEnv is every fault, or those whose name contains one of the
// comma-separated SOAK_FAULTS, to replay one kind.
func faultsFromEnv(t *testing.T) []fault {
	want := os.Getenv("SOAK_FAULTS")
	if want == "" {
		return slices.Clone(faults)
	}
	var chosen []fault
	for _, f := range faults {
		for _, w := range strings.Split(want, ",") {
			if w != "" && strings.Contains(f.name, w) {
				chosen = append(chosen, f)
				break
			}
		}
	}
	if len(chosen) == 0 {
		t.Fatalf("SOAK_FAULTS=%q names none of the faults; they are %s", want, faultNames())
	}
	return chosen
}

func faultNames() string {
	var names []string
	for _, f := range faults {
		names = append(names, strconv.Quote(f.name))
	}
	return strings.Join(names, ", ")
}

// TestSoakMixed10 is the soak's short form, part of `make test`: 10 runs,
// a new order each time (the seed is printed).
func TestSoakMixed10(t *testing.T) {
	soak(t, 10, seedFromEnv(t))
}
