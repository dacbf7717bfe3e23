package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	tclog "github.com/testcontainers/testcontainers-go/log"

	"github.com/attack-replay/attack-replay/harness/runner"
	"github.com/attack-replay/attack-replay/harness/scenario"
	"github.com/attack-replay/attack-replay/harness/session"
	"github.com/attack-replay/attack-replay/harness/verdict"
	"github.com/attack-replay/attack-replay/harness/victim"
)

// rehearseTailLines is how much of a step's output rehearse shows.
const rehearseTailLines = 3

// idList is --run, given several times or comma-separated.
type idList []string

func (l *idList) String() string { return strings.Join(*l, ",") }

func (l *idList) Set(v string) error {
	for _, id := range strings.Split(v, ",") {
		if id = strings.TrimSpace(id); id != "" {
			*l = append(*l, id)
		}
	}
	if len(*l) == 0 {
		return errors.New("empty scenario id")
	}
	return nil
}

func runRehearse(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("rehearse", "Runs every selected scenario's setup, steps and cleanup in a real victim of the shape it\n"+
		"asks for, without Falco: no barrier, no alerts judged. Each step is shown with its exit status\n"+
		"against the one the scenario declares, its time and, when it did not run as declared (or with\n"+
		"-v), the tail of its output. Exits 1 when any step did not run as declared: the real run would\n"+
		"be an error. Victim images and privileges come from VICTIM_IMAGE, VICTIM_TOOLS_IMAGE and\n"+
		"VICTIM_PRIVILEGES; TECHNIQUES and TACTICS select as for make test-rules.", stderr)
	scenarios := fs.String("scenarios", defaultScenarios, "scenarios `directory` (a library such as scenarios/upstream loads on its own)")
	var ids idList
	fs.Var(&ids, "run", "rehearse only the scenario with this `id`; repeat or separate with commas")
	workers := fs.Int("workers", 0, "scenarios rehearsed at once (default WORKERS, else the number of CPUs)")
	verbose := fs.Bool("v", false, "show every step's output tail, not only those of steps that did not run as declared")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	cfg, err := session.FromEnv(os.Getenv)
	if err != nil {
		fmt.Fprintf(stderr, "attack-replay rehearse: %v\n", err)
		return exitUsage
	}
	if *workers < 0 {
		fmt.Fprintf(stderr, "attack-replay rehearse: --workers %d: want 1 or more\n", *workers)
		return exitUsage
	}
	if *workers > 0 {
		cfg.Workers = *workers
	}

	set, err := scenario.LoadDir(*scenarios, scenario.Options{})
	for _, w := range set.Warnings {
		fmt.Fprintln(stderr, w)
	}
	for _, lib := range set.Skipped {
		fmt.Fprintln(stderr, lib.Note())
	}
	var le *scenario.LoadError
	if errors.As(err, &le) {
		for _, p := range le.Problems {
			fmt.Fprintln(stderr, p)
		}
		fmt.Fprintf(stderr, "attack-replay rehearse: %s in %s: fix them first (attack-replay validate checks them against the rules too)\n",
			plural(len(le.Problems), "problem"), *scenarios)
		return exitProblems
	}
	selected, err := selectScenarios(scenario.Filter(set.Scenarios(), cfg.Selection), ids)
	if err != nil {
		fmt.Fprintf(stderr, "attack-replay rehearse: %v\n", err)
		return exitUsage
	}
	if len(selected) == 0 {
		fmt.Fprintf(stderr, "attack-replay rehearse: no scenario selected in %s\n", *scenarios)
		return exitUsage
	}

	// The steps say what each container did; testcontainers' per-container
	// lines would drown them.
	tclog.SetDefault(tclog.NewNoopLogger())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	check, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := session.CheckVictimImages(check, cfg, selected); err != nil {
		fmt.Fprintf(stderr, "attack-replay rehearse: %v\n", err)
		return exitUsage
	}
	victims := cfg.Victims()
	victims.Options = append(victims.Options, victim.WithLogger(slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))))
	fmt.Fprintf(stdout, "rehearse: %s from %s, %d at once, without Falco (victims %s, %s; privileges %s)\n",
		plural(len(selected), "scenario"), *scenarios, cfg.Workers, cfg.VictimImage, cfg.VictimToolsImage, cfg.VictimPrivileges)

	var mu sync.Mutex
	var tally rehearsal
	results, err := runner.New(runner.Config{
		Workers:     cfg.Workers,
		Rehearse:    true,
		StartVictim: runner.StartVictims(victims),
		RunID:       "rehearse-" + randomID(),
		OnResult: func(res verdict.Result) {
			mu.Lock()
			defer mu.Unlock()
			tally.add(res)
			io.WriteString(stdout, rehearsed(res, *verbose))
		},
	}).Run(ctx, selected)
	fmt.Fprintln(stdout, tally.summary(len(selected), len(results)))
	if err != nil {
		fmt.Fprintf(stderr, "attack-replay rehearse: %v\n", err)
		return exitProblems
	}
	if tally.errors > 0 {
		return exitProblems
	}
	return exitOK
}

// selectScenarios keeps the scenarios ids names, in their order; every id
// must exist.
func selectScenarios(all []*scenario.Scenario, ids []string) ([]*scenario.Scenario, error) {
	if len(ids) == 0 {
		return all, nil
	}
	var out []*scenario.Scenario
	var unknown []string
	for _, id := range ids {
		i := slices.IndexFunc(all, func(s *scenario.Scenario) bool { return s.ID == id })
		if i < 0 {
			unknown = append(unknown, fmt.Sprintf("%q", id))
			continue
		}
		if !slices.Contains(out, all[i]) {
			out = append(out, all[i])
		}
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("--run %s: no such scenario among the %s selected (attack-replay list shows their ids)",
			strings.Join(unknown, ", "), plural(len(all), "scenario"))
	}
	return out, nil
}

// rehearsal counts what a rehearsal found.
type rehearsal struct{ ok, errors, skipped int }

func (r *rehearsal) add(res verdict.Result) {
	switch res.Outcome {
	case verdict.Pass:
		r.ok++
	case verdict.Skip:
		r.skipped++
	default:
		r.errors++
	}
}

func (r rehearsal) summary(selected, done int) string {
	s := fmt.Sprintf("rehearse: %d ok, %d not as declared, %d skipped", r.ok, r.errors, r.skipped)
	if done < selected {
		s += fmt.Sprintf("; %d of %d not rehearsed (interrupted)", selected-done, selected)
	}
	return s
}

// rehearsed renders one scenario's rehearsal: a headline, then each step.
func rehearsed(res verdict.Result, verbose bool) string {
	var b strings.Builder
	v := res.Attempts[0]
	status := map[verdict.Outcome]string{verdict.Pass: "ok", verdict.Skip: "SKIP"}[v.Outcome]
	if status == "" {
		status = "ERROR"
	}
	fmt.Fprintf(&b, "%-5s  %s  %s:%d", status, v.ScenarioID, v.File, v.Line)
	switch v.Outcome {
	case verdict.Pass:
		fmt.Fprintf(&b, "  %s\n", v.Timings.Total.Round(time.Millisecond))
	default:
		fmt.Fprintf(&b, "\n       %s\n", v.Reason)
	}
	for _, n := range v.Notes {
		fmt.Fprintf(&b, "       note: %s\n", n)
	}
	for _, s := range v.Steps {
		label := fmt.Sprintf("%s %d", s.Phase, s.Index)
		if s.Phase == "steps" {
			label = fmt.Sprintf("step %d", s.Index)
		}
		fmt.Fprintf(&b, "       %-9s %-12s %6s  %s\n", label, stepOutcome(s), s.Duration.Round(time.Millisecond), oneLine(s.Command(), 100))
		if !verbose && !noteworthy(s) {
			continue
		}
		for _, out := range []struct{ name, text string }{{"stdout", s.Stdout}, {"stderr", s.Stderr}} {
			for _, l := range lastLines(out.text, rehearseTailLines) {
				fmt.Fprintf(&b, "                 %s| %s\n", out.name, oneLine(l, 160))
			}
		}
	}
	return b.String()
}

// noteworthy says whether a step's output deserves a look: it did not run as
// declared, or exited non-zero where the scenario declares nothing.
func noteworthy(s verdict.StepResult) bool {
	switch {
	case s.Err != "" || s.TimedOut:
		return true
	case s.Sleep > 0:
		return false
	case len(s.ExpectExit) > 0:
		return !slices.Contains(s.ExpectExit, s.ExitCode)
	}
	return s.ExitCode != 0
}

// stepOutcome is a step's exit status against what the scenario declares.
func stepOutcome(s verdict.StepResult) string {
	switch {
	case s.Err != "":
		return "not run: " + oneLine(s.Err, 60)
	case s.TimedOut:
		return "TIMED OUT"
	case s.Sleep > 0:
		return "slept"
	case len(s.ExpectExit) > 0 && slices.Contains(s.ExpectExit, s.ExitCode):
		return fmt.Sprintf("exit %d ok", s.ExitCode)
	case len(s.ExpectExit) > 0:
		return fmt.Sprintf("exit %d, want %s", s.ExitCode, scenario.ExitText(s.ExpectExit))
	case s.ExitCode == 126 || s.ExitCode == 127:
		return fmt.Sprintf("exit %d!", s.ExitCode)
	}
	return fmt.Sprintf("exit %d", s.ExitCode)
}

func lastLines(s string, n int) []string {
	s = strings.TrimRight(strings.ReplaceAll(s, "\r\n", "\n"), "\n ")
	if s == "" {
		return nil
	}
	lines := strings.Split(s, "\n")
	return lines[max(0, len(lines)-n):]
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

func randomID() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
