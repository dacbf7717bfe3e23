package session_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"

	"github.com/attack-replay/attack-replay/harness/falco"
	"github.com/attack-replay/attack-replay/harness/falco/falcotest"
	"github.com/attack-replay/attack-replay/harness/report"
	"github.com/attack-replay/attack-replay/harness/session"
	"github.com/attack-replay/attack-replay/harness/verdict"
	"github.com/attack-replay/attack-replay/harness/victim"
)

// These tests run sessions for real — a Falco container (the stand-in,
// falcotest), victims, execs, reports — against the test data. The
// stand-in cannot see execs in victims: their barrier markers are never
// answered, so every scenario that gets to its barrier is an error
// verdict, and the tests use that.

// await bounds every wait for a result: far below the barrier timeouts of
// the tests that must not wait for theirs.
const await = 60 * time.Second

// runConfig is a configuration for the stand-in and the test data, with
// its reports in a temporary directory.
func runConfig(t *testing.T, falcoImage, scenarios string) session.Config {
	t.Helper()
	return session.Config{
		FalcoImage:       falcoImage,
		FalcoTransport:   falco.TransportAuto,
		FalcoPrivileges:  falco.PrivilegesAuto,
		FalcoStartup:     60 * time.Second,
		VictimImage:      victimImage(t),
		VictimPrivileges: victim.PrivilegesAuto,
		Rules:            []string{"testdata/rules"},
		Scenarios:        scenarios,
		Workers:          2,
		Repeat:           1,
		ReportDir:        filepath.Join(t.TempDir(), "reports"),
		BarrierTimeout:   time.Second,
	}
}

func inputs(t *testing.T, cfg session.Config) session.Inputs {
	t.Helper()
	idx, set, err := session.Load(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return session.Inputs{Rules: idx, All: set.Scenarios(), Selected: set.Scenarios()}
}

// start starts a session and makes sure it is closed when the test ends.
func start(t *testing.T, cfg session.Config, in session.Inputs) (*session.Session, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	s, err := session.Start(ctx, cfg, in, log)
	t.Cleanup(func() { _, _ = s.Close(context.Background()) })
	return s, err
}

// testWriter sends log lines to the test's log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// awaitAll waits for every selected scenario at once, as the suite's specs
// do.
func awaitAll(t *testing.T, s *session.Session, in session.Inputs) (map[string]verdict.Result, map[string]error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), await)
	defer cancel()
	var mu sync.Mutex
	results, errs := map[string]verdict.Result{}, map[string]error{}
	var wg sync.WaitGroup
	for _, sc := range in.Selected {
		wg.Go(func() {
			res, err := s.Await(ctx, sc.ID)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs[sc.ID] = err
			} else {
				results[sc.ID] = res
			}
		})
	}
	wg.Wait()
	return results, errs
}

// leftovers lists the containers, running or not, labelled with the run.
func leftovers(t *testing.T, runID string) []string {
	t.Helper()
	if runID == "" {
		t.Fatal("no run id")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ids, err := victim.Labelled(ctx, map[string]string{victim.LabelRun: runID})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// readReports checks that Close wrote every report file and returns
// report.json.
func readReports(t *testing.T, dir string) *report.Report {
	t.Helper()
	for _, name := range []string{report.JSONFile, report.MarkdownFile, report.HTMLFile, report.NavigatorFile} {
		if fi, err := os.Stat(filepath.Join(dir, name)); err != nil || fi.Size() == 0 {
			t.Errorf("report %s: %v", name, err)
		}
	}
	rep, err := report.Load(filepath.Join(dir, report.JSONFile))
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestSessionBarrierNeverAnswered replays the quick scenarios: their steps
// run in real victims, their barriers are never answered, so each comes
// back as an error verdict naming the barrier and Falco's state; Close
// writes the reports and leaves no container behind.
func TestSessionBarrierNeverAnswered(t *testing.T) {
	cfg := runConfig(t, standinImage(t, "0.43.1", ""), "testdata/scenarios")
	in := inputs(t, cfg)
	in.LabelFilter = "technique:T1485"
	s, err := start(t, cfg, in)
	if err != nil {
		t.Fatal(err)
	}
	runID := s.Falco().RunID()
	if _, err := s.Await(context.Background(), "no-such-scenario"); err == nil || !strings.Contains(err.Error(), `"no-such-scenario": not selected`) {
		t.Errorf("Await of an unknown scenario = %v", err)
	}
	results, errs := awaitAll(t, s, in)
	for id, err := range errs {
		t.Errorf("Await(%q) = %v", id, err)
	}
	for _, sc := range in.Selected {
		res, ok := results[sc.ID]
		if !ok {
			continue
		}
		if res.Outcome != verdict.Error || len(res.Attempts) != 1 {
			t.Errorf("%s: outcome %s with %d attempts, want one error", sc.ID, res.Outcome, len(res.Attempts))
			continue
		}
		v := res.Attempts[0]
		t.Logf("%s: %s", sc.ID, v.Reason)
		for _, want := range []string{"never arrived within 1s", "falco 0.43.1 running (grpc)"} {
			if !strings.Contains(v.Reason, want) {
				t.Errorf("%s: reason %q lacks %q", sc.ID, v.Reason, want)
			}
		}
		// The steps ran for real in a victim of their own.
		if v.VictimID == "" || len(v.Steps) != len(sc.Steps) || slices.ContainsFunc(v.Steps, func(st verdict.StepResult) bool { return st.ExitCode != 0 }) {
			t.Errorf("%s: victim %q, steps %+v", sc.ID, v.VictimID, v.Steps)
		}
	}
	if got := s.Results(); len(got) != 3 || slices.ContainsFunc(got, func(r verdict.Result) bool { return r.Outcome != verdict.Error }) {
		t.Errorf("results %+v, want 3 errors", got)
	}

	rep, err := s.Close(context.Background())
	if err != nil {
		t.Errorf("Close = %v", err)
	}
	if ids := leftovers(t, runID); len(ids) > 0 {
		t.Errorf("containers of run %s left after Close: %v", runID, ids)
	}
	got := readReports(t, cfg.ReportDir)
	m := got.Meta
	if m.Falco.Version != "0.43.1" || m.Falco.Transport != "grpc" || m.Falco.Image != cfg.FalcoImage || m.Falco.Engine != falco.DefaultEngine ||
		m.VictimImage != cfg.VictimImage || m.LabelFilter != "technique:T1485" || m.Repeat != 1 || len(m.RulesFiles) != 1 ||
		m.Start.IsZero() || m.End.Before(m.Start) {
		t.Errorf("report meta = %+v", m)
	}
	if sum := got.Summary; sum.Scenarios != 3 || sum.Error != 3 || sum.Techniques != 1 || !sum.Trustworthy {
		t.Errorf("report summary = %+v", sum)
	}
	if len(m.RunErrors) != 0 {
		t.Errorf("report run errors %q of a clean run", m.RunErrors)
	}
	if rep == nil || rep.Summary.Counts != got.Summary.Counts {
		t.Errorf("Close returned report %+v, wrote %+v", rep, got.Summary)
	}
	// Results outlive Close, and a second Close changes nothing.
	if res, err := s.Await(context.Background(), "rm-rf-data"); err != nil || res.Outcome != verdict.Error {
		t.Errorf("Await after Close = %v, %v", res.Outcome, err)
	}
	if rep2, err2 := s.Close(context.Background()); rep2 != rep || !errors.Is(err2, err) {
		t.Errorf("second Close = %p, %v; want %p, %v", rep2, err2, rep, err)
	}
}

// TestSessionFalcoDiesMidRun makes Falco exit while the first scenario
// waits for its barrier (long timeout) and the second has not started:
// both Awaits return at once with error verdicts naming the exit code, and
// Close reports Falco's exit.
func TestSessionFalcoDiesMidRun(t *testing.T) {
	cfg := runConfig(t, standinImage(t, "0.44.1", ""), "testdata/scenarios")
	cfg.Workers = 1
	cfg.BarrierTimeout = 10 * time.Minute
	in := inputs(t, cfg)
	in.Selected = in.Selected[:2]
	s, err := start(t, cfg, in)
	if err != nil {
		t.Fatal(err)
	}
	runID := s.Falco().RunID()
	// The first scenario's last step ran: its attempt is at its barrier,
	// or about to be.
	waitForVictims(t, runID, 1, hasFile("/tmp/steps-done"))
	if err := falcotest.Exit(context.Background(), s.Falco().GetContainerID(), 3); err != nil {
		t.Fatal(err)
	}
	results, errs := awaitAll(t, s, in)
	for id, err := range errs {
		t.Errorf("Await(%q) = %v", id, err)
	}
	wantReason := map[string]string{
		in.Selected[0].ID: "falco died: the alert stream failed while waiting for the barrier: falco exited with code 3 during run",
		in.Selected[1].ID: "falco died before the scenario started: falco exited with code 3 during run",
	}
	for id, want := range wantReason {
		res, ok := results[id]
		if !ok {
			continue
		}
		reason := res.Attempts[0].Reason
		t.Logf("%s: %s", id, reason)
		if res.Outcome != verdict.Error || !strings.HasPrefix(reason, want) {
			t.Errorf("%s: %s %q, want an error starting %q", id, res.Outcome, reason, want)
		}
		// One line, the exit said once: Falco's log lines are Close's.
		if strings.Count(reason, "exited with code 3") != 1 || strings.Contains(reason, "last log lines") {
			t.Errorf("%s: reason %q repeats the exit or carries Falco's log", id, reason)
		}
	}
	_, err = s.Close(context.Background())
	var exit *falco.ExitError
	if !errors.As(err, &exit) || exit.ExitCode != 3 || exit.Phase != falco.PhaseRun || !strings.HasPrefix(err.Error(), "falco exited with code 3 during run") {
		t.Errorf("Close = %v; want Falco's exit error", err)
	}
	if exit != nil && (len(exit.LogTail) == 0 || strings.Count(err.Error(), "\nlast log lines:\n") != 1) {
		t.Errorf("Close = %v; want Falco's last log lines, once", err)
	}
	if ids := leftovers(t, runID); len(ids) > 0 {
		t.Errorf("containers of run %s left after Close: %v", runID, ids)
	}
	if got := readReports(t, cfg.ReportDir); got.Summary.Error != 2 || got.Meta.Falco.Transport != "http" || got.Meta.Falco.Version != "0.44.1" ||
		len(got.Meta.RunErrors) != 1 || !strings.HasPrefix(got.Meta.RunErrors[0], "falco exited with code 3 during run") {
		t.Errorf("report summary %+v, falco %+v, run errors %q", got.Summary, got.Meta.Falco, got.Meta.RunErrors)
	}
}

// TestSessionCloseCancels closes a run whose two workers are in the middle
// of a step that would last minutes: Close returns once both victims and
// Falco are gone, the running scenarios are cancelled error verdicts, the
// one never started is reported missing.
func TestSessionCloseCancels(t *testing.T) {
	cfg := runConfig(t, standinImage(t, "0.44.1", ""), "testdata/slow")
	in := inputs(t, cfg)
	s, err := start(t, cfg, in)
	if err != nil {
		t.Fatal(err)
	}
	runID := s.Falco().RunID()
	waitForVictims(t, runID, 2, runs("sleep 301"))
	short, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := s.Await(short, "slow-one"); !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "(falco 0.44.1 running (http), ") {
		t.Errorf("Await past its context = %v; want the deadline and Falco's state", err)
	}

	type awaited struct {
		res verdict.Result
		err error
	}
	pending := map[string]chan awaited{}
	for _, sc := range in.Selected {
		ch := make(chan awaited, 1)
		pending[sc.ID] = ch
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), await)
			defer cancel()
			res, err := s.Await(ctx, sc.ID)
			ch <- awaited{res, err}
		}()
	}
	_, err = s.Close(context.Background())
	t.Logf("Close: %v", err)
	if err == nil || !strings.Contains(err.Error(), `1 of 3 scenarios did not finish and are not in the report: "slow-three"`) || strings.Contains(err.Error(), "session closed") {
		t.Errorf("Close = %v; want the scenario that never started named, and no cancellation error", err)
	}
	if ids := leftovers(t, runID); len(ids) > 0 {
		t.Errorf("containers of run %s left after Close: %v", runID, ids)
	}
	for _, id := range []string{"slow-one", "slow-two"} {
		a := <-pending[id]
		if a.err != nil || a.res.Outcome != verdict.Error || !strings.HasPrefix(a.res.Attempts[0].Reason, "cancelled during step 1: session closed") {
			t.Errorf("%s: %+v, %v; want a cancelled error verdict", id, a.res.Attempts, a.err)
		}
	}
	if a := <-pending["slow-three"]; a.err == nil || !strings.Contains(a.err.Error(), `await scenario "slow-three": the run stopped before the scenario finished`) {
		t.Errorf("slow-three: %v; want the run stopped", a.err)
	}
	if got := readReports(t, cfg.ReportDir); got.Summary.Scenarios != 2 || got.Summary.Error != 2 {
		t.Errorf("report summary %+v, want the two cancelled scenarios", got.Summary)
	}
}

// TestSessionStartFailsOnRules starts a Falco that rejects the rules file:
// Start returns Falco's rules error, Await says the run did not start,
// Close writes the reports anyway and returns the rules error, and no
// container is left.
func TestSessionStartFailsOnRules(t *testing.T) {
	cfg := runConfig(t, standinImage(t, "0.43.1", "start-fails-invalid-rules-0.43.1.stderr"), "testdata/scenarios")
	in := inputs(t, cfg)
	s, err := start(t, cfg, in)
	var rules *falco.RulesError
	if !errors.As(err, &rules) || rules.File != "testdata/rules/rm_rf.yaml" || rules.Line != 4 || rules.Code != "LOAD_ERR_COMPILE_OUTPUT" {
		t.Fatalf("Start = %v; want the rules error at testdata/rules/rm_rf.yaml:4", err)
	}
	if s.Falco() == nil {
		t.Fatal("no Falco container kept to remove")
	}
	ctx, cancel := context.WithTimeout(context.Background(), await)
	defer cancel()
	if _, aerr := s.Await(ctx, "rm-rf-data"); aerr == nil || !strings.Contains(aerr.Error(), "the run did not start: run falco: falco exited with code 1 during start") {
		t.Errorf("Await = %v; want the start error", aerr)
	}
	rep, cerr := s.Close(context.Background())
	if !errors.As(cerr, &rules) || !strings.Contains(cerr.Error(), "LOAD_ERR_COMPILE_OUTPUT") {
		t.Errorf("Close = %v; want the rules error", cerr)
	}
	if strings.Contains(cerr.Error(), "did not finish") {
		t.Errorf("Close = %v; the start error alone says why nothing ran", cerr)
	}
	if ids := leftovers(t, s.Falco().RunID()); len(ids) > 0 {
		t.Errorf("containers of run %s left after Close: %v", s.Falco().RunID(), ids)
	}
	got := readReports(t, cfg.ReportDir)
	if got.Summary.Scenarios != 0 || got.Meta.Falco.Version != "0.43.1" || got.Coverage == nil || rep == nil {
		t.Errorf("report summary %+v, falco %+v, coverage %v", got.Summary, got.Meta.Falco, got.Coverage != nil)
	}
	// The report says why nothing ran: a matrix of runs shows it.
	if errs := got.Meta.RunErrors; len(errs) != 1 || !strings.Contains(errs[0], "LOAD_ERR_COMPILE_OUTPUT") {
		t.Errorf("report run errors %q; want the rules error", errs)
	}
}

// TestSessionStartFailsWithoutImage: no container at all, still a session
// to Close, still reports.
func TestSessionStartFailsWithoutImage(t *testing.T) {
	cfg := runConfig(t, "attack-replay/no-such-falco:0.0.0", "testdata/scenarios")
	in := inputs(t, cfg)
	s, err := start(t, cfg, in)
	if !errors.Is(err, falco.ErrImageUnavailable) || s.Falco() != nil {
		t.Fatalf("Start = %v, falco %v; want ErrImageUnavailable and no container", err, s.Falco())
	}
	if got := s.Results(); len(got) != 0 {
		t.Errorf("results before any run: %+v", got)
	}
	_, cerr := s.Close(context.Background())
	if !errors.Is(cerr, falco.ErrImageUnavailable) {
		t.Errorf("Close = %v; want the start error", cerr)
	}
	if got := readReports(t, cfg.ReportDir); got.Meta.Falco.Image != cfg.FalcoImage || got.Meta.Falco.Version != "" {
		t.Errorf("report falco %+v", got.Meta.Falco)
	}

	in.Rules = nil
	s, err = start(t, cfg, in)
	if err == nil || !strings.Contains(err.Error(), "no rules index") {
		t.Errorf("Start without rules = %v", err)
	}
	if _, err := s.Close(context.Background()); err == nil {
		t.Error("Close after Start without rules returned no error")
	}
}

// waitForVictims waits until n victims of the run satisfy ok.
func waitForVictims(t *testing.T, runID string, n int, ok func(ctx context.Context, cli *testcontainers.DockerClient, id string) bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), await)
	defer cancel()
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		ids, err := victim.Labelled(ctx, map[string]string{victim.LabelRun: runID, victim.LabelRole: victim.RoleVictim})
		if err != nil {
			t.Fatal(err)
		}
		found := 0
		for _, id := range ids {
			if ok(ctx, cli, id) {
				found++
			}
		}
		if found >= n {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%d of %d victims of run %s got there: %v", found, n, runID, context.Cause(ctx))
		case <-tick.C:
		}
	}
}

// hasFile is true once path exists in the container.
func hasFile(path string) func(context.Context, *testcontainers.DockerClient, string) bool {
	return func(ctx context.Context, cli *testcontainers.DockerClient, id string) bool {
		_, err := cli.ContainerStatPath(ctx, id, client.ContainerStatPathOptions{Path: path})
		return err == nil
	}
}

// runs is true while a process whose command line contains cmd runs in the
// container.
func runs(cmd string) func(context.Context, *testcontainers.DockerClient, string) bool {
	return func(ctx context.Context, cli *testcontainers.DockerClient, id string) bool {
		top, err := cli.ContainerTop(ctx, id, client.ContainerTopOptions{})
		return err == nil && slices.ContainsFunc(top.Processes, func(p []string) bool { return strings.Contains(strings.Join(p, " "), cmd) })
	}
}

// TestSessionLoadsMutantRules: Falco loads the mutant rules files after the
// candidates (so their rules may use nothing the candidates lack), and the
// stand-in, like Falco, logs every file it loads in load order.
func TestSessionLoadsMutantRules(t *testing.T) {
	cfg := runConfig(t, standinImage(t, "0.43.1", ""), "testdata/scenarios")
	in := inputs(t, cfg)
	in.Selected = nil
	mutants := filepath.Join(t.TempDir(), "mutants.yaml")
	text := "- rule: rm -rf data [mutant 1: drop and-clause x]\n  desc: d\n  condition: evt.type = execve\n  output: o\n  priority: WARNING\n"
	if err := os.WriteFile(mutants, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	in.MutantRules = []string{mutants}
	s, err := start(t, cfg, in)
	if err != nil {
		t.Fatal(err)
	}
	var loaded []string
	for _, line := range s.Falco().LogTail(200) {
		if strings.Contains(line, "| schema validation: ok") && strings.Contains(line, ".yaml") && !strings.Contains(line, "config") {
			loaded = append(loaded, line)
		}
	}
	candidate := slices.IndexFunc(loaded, func(l string) bool { return strings.Contains(l, "rm_rf.yaml") })
	mutant := slices.IndexFunc(loaded, func(l string) bool { return strings.Contains(l, "mutants.yaml") })
	if candidate < 0 || mutant < candidate {
		t.Errorf("rules files loaded: %q; want mutants.yaml after rm_rf.yaml", loaded)
	}
}
