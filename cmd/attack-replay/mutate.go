package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	tclog "github.com/testcontainers/testcontainers-go/log"

	"github.com/attack-replay/attack-replay/harness/mutate"
	"github.com/attack-replay/attack-replay/harness/report"
	"github.com/attack-replay/attack-replay/harness/rules"
	"github.com/attack-replay/attack-replay/harness/scenario"
	"github.com/attack-replay/attack-replay/harness/session"
)

// nameList is a flag that may be given several times, each a whole name
// (rule names hold commas and blanks).
type nameList []string

func (l *nameList) String() string { return strings.Join(*l, ", ") }

func (l *nameList) Set(v string) error {
	if strings.TrimSpace(v) == "" {
		return errors.New("empty rule name")
	}
	*l = append(*l, v)
	return nil
}

// mutateRunTimeout bounds a run of the mutants in Falco: the scenarios of a
// rules directory take minutes, not hours.
const mutateRunTimeout = 2 * time.Hour

func runMutate(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("mutate", "Mutation testing of the rules: makes mutants of each selected rule (one clause dropped,\n"+
		"negated, its operator swapped, a list item dropped, a string constant nearly missed; macros\n"+
		"and lists expanded), runs them next to the originals in one Falco and tells, per rule, which\n"+
		"mutants some scenario notices (killed) and which none does (survived, with the clause that\n"+
		"changed). --predict does it without Falco, from the events the steps imply: a prediction.\n"+
		"Writes mutants.md, mutants.json, mutants.html and the mutants' rules (mutants.yaml) into the\n"+
		"report directory. The run takes FALCO_IMAGE and the other variables of make test-rules.\n"+
		"Exits 1 when the score is below --fail-under or the files have problems.", stderr)
	var in inputs
	in.register(fs)
	var names nameList
	fs.Var(&names, "rule", "mutate only the rule of this exact `name`; repeat for several (default: every syscall rule of --rules)")
	predict := fs.Bool("predict", false, "predict the classification without Falco, from the events the scenarios' steps imply")
	failUnder := fs.Float64("fail-under", 0, "exit 1 when the mutation score is below `PCT` percent (0 disables)")
	reportDir := fs.String("report-dir", "", "`directory` of the reports (default REPORT_DIR, else reports)")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if *failUnder < 0 || *failUnder > 100 {
		fmt.Fprintf(stderr, "attack-replay mutate: --fail-under %g is not a percentage (give 0 to 100)\n", *failUnder)
		return exitUsage
	}
	dir := *reportDir
	if dir == "" {
		dir = cmp.Or(os.Getenv("REPORT_DIR"), "reports")
	}
	var cfg session.Config
	if !*predict {
		// The image first: without one, nothing else is worth doing.
		var code int
		if cfg, code = falcoConfig(in, dir, stderr); code != exitOK {
			return code
		}
	}
	l := in.load()
	if code := l.report("mutate", stderr); code != exitOK {
		return code
	}
	set, err := mutate.Generate(l.index, names)
	if err != nil {
		fmt.Fprintf(stderr, "attack-replay mutate: %v\n", err)
		return exitUsage
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintf(stderr, "attack-replay mutate: report directory: %v (set --report-dir or REPORT_DIR to a writable directory)\n", err)
		return exitUsage
	}
	if err := set.Screen(in.rulesPaths(), dir); err != nil {
		fmt.Fprintf(stderr, "attack-replay mutate: %v\n", err)
		return exitUsage
	}
	candidates := candidateNames(l.index, in.rulesPaths())
	scenarios := l.set.Scenarios()

	var rep mutate.Report
	if *predict {
		if rep, err = mutate.Predict(l.index, set, scenarios, candidates); err != nil {
			fmt.Fprintf(stderr, "attack-replay mutate: %v\n", err)
			return exitUsage
		}
	} else {
		var code int
		if rep, code = mutateInFalco(cfg, l.index, set, scenarios, candidates, dir, stderr); code != exitOK {
			return code
		}
	}
	if err := rep.Write(dir); err != nil {
		fmt.Fprintf(stderr, "attack-replay mutate: %v\n", err)
		return exitUsage
	}
	printMutants(stdout, rep, dir)
	if *failUnder > 0 && rep.Score() < *failUnder {
		fmt.Fprintf(stderr, "attack-replay mutate: mutation score %.1f%% is below --fail-under %g%%\n", rep.Score(), *failUnder)
		return exitProblems
	}
	return exitOK
}

// candidateNames are the rules "*" stands for in a run of these files.
func candidateNames(idx *rules.Index, paths []string) []string {
	var out []string
	for _, r := range report.RulesFromIndex(idx, paths) {
		if r.Candidate {
			out = append(out, r.Name)
		}
	}
	return out
}

// falcoConfig is the run's configuration (the variables of make
// test-rules, with --rules and --scenarios), once the Falco and victim
// images are known to be there. The run's own reports go to dir/run.
func falcoConfig(in inputs, dir string, stderr io.Writer) (session.Config, int) {
	cfg, err := session.FromEnv(os.Getenv)
	if err != nil {
		fmt.Fprintf(stderr, "attack-replay mutate: %v\n", err)
		return cfg, exitUsage
	}
	cfg.Rules, cfg.Scenarios, cfg.ReportDir = in.rulesPaths(), in.scenarios, filepath.Join(dir, "run")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := session.Preflight(ctx, cfg); err != nil {
		fmt.Fprintf(stderr, "attack-replay mutate: %v\n", err)
		return cfg, exitUsage
	}
	return cfg, exitOK
}

// mutateInFalco runs the scenarios that judge the mutated rules in one
// Falco with the originals and the mutants (dir/mutants.yaml), and
// classifies from their verdicts.
func mutateInFalco(cfg session.Config, idx *rules.Index, set *mutate.Set, all []*scenario.Scenario, candidates []string, dir string, stderr io.Writer) (mutate.Report, int) {
	fail := func(code int, format string, args ...any) (mutate.Report, int) {
		fmt.Fprintf(stderr, "attack-replay mutate: "+format+"\n", args...)
		return mutate.Report{}, code
	}
	selected := mutate.Judging(set, scenario.Filter(all, cfg.Selection), candidates)
	if len(selected) == 0 {
		return fail(exitProblems, "no scenario judges the rules mutated: every mutant would survive (add scenarios that expect them, or check --rule)")
	}
	tclog.SetDefault(tclog.NewNoopLogger())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, mutateRunTimeout)
	defer cancel()
	if err := session.CheckVictimImages(ctx, cfg, selected); err != nil {
		return fail(exitUsage, "%v", err)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	s, err := session.Start(ctx, cfg, session.Inputs{Rules: idx, All: all, Selected: selected,
		MutantRules: []string{filepath.Join(dir, mutate.FileName)}}, log)
	if err != nil {
		_, _ = s.Close(context.WithoutCancel(ctx))
		return fail(exitProblems, "%v", err)
	}
	for _, sc := range selected {
		if _, err := s.Await(ctx, sc.ID); err != nil {
			_, _ = s.Close(context.WithoutCancel(ctx))
			return fail(exitProblems, "%v", err)
		}
	}
	results := s.Results()
	if _, err := s.Close(context.WithoutCancel(ctx)); err != nil {
		fmt.Fprintf(stderr, "attack-replay mutate: %v\n", err)
	}
	return mutate.Report{Result: mutate.Classify(set, selected, results, candidates)}, exitOK
}

// printMutants writes the per-rule table and where the reports are.
func printMutants(w io.Writer, rep mutate.Report, dir string) {
	fmt.Fprintln(w, rep.Headline())
	width := len("rule")
	for _, rr := range rep.Rules {
		width = max(width, len(rr.Rule))
	}
	fmt.Fprintf(w, "%-*s  %7s  %6s  %8s  %6s\n", width, "rule", "mutants", "killed", "survived", "score")
	for _, rr := range rep.Rules {
		fmt.Fprintf(w, "%-*s  %7d  %6d  %8d  %5.1f%%\n", width, rr.Rule, rr.Killed+rr.Survived, rr.Killed, rr.Survived, rr.Score())
	}
	fmt.Fprintf(w, "survivors and the clauses they changed: %s, %s, %s\n",
		filepath.Join(dir, mutate.MarkdownFile), filepath.Join(dir, mutate.HTMLFile), filepath.Join(dir, mutate.JSONFile))
}
