//go:build rules

package techniques

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/attack-replay/attack-replay/harness/rules"
	"github.com/attack-replay/attack-replay/harness/scenario"
	"github.com/attack-replay/attack-replay/harness/session"
	"github.com/attack-replay/attack-replay/harness/verdict"
)

// Filled by TestTechniques before RunSpecs: Ginkgo builds the Describe
// below only then, so the specs come from the scenario files.
var (
	cfg      session.Config
	specs    []Spec
	inputs   session.Inputs
	sess     *session.Session
	progress *Progress
)

// TestTechniques loads the rules and scenarios, stops at once (naming
// FALCO_IMAGE) when the Falco image is missing, and runs one spec per
// scenario. Paths in RULES, SCENARIOS and REPORT_DIR are relative to the
// repository root.
func TestTechniques(t *testing.T) {
	RegisterFailHandler(Fail)
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(root)
	suiteConfig, _ := GinkgoConfiguration()
	// A run checks the configuration, REPORT_DIR writable included, before
	// any image or scenario (make test-rules did too; this is for users who
	// run Ginkgo directly). A dry run writes no reports.
	check := session.Check
	if suiteConfig.DryRun {
		check = session.FromEnv
	}
	if cfg, err = check(os.Getenv); err != nil {
		t.Fatal(err)
	}
	// A dry run lists the specs without any image: it loads without the
	// Falco image's rules (FALCO_IMAGE_RULES), warning of what only they
	// could check. A run checks the images first, within seconds, then
	// loads the image's rules when asked.
	var idx *rules.Index
	var set *scenario.Set
	if suiteConfig.DryRun {
		idx, set, err = session.LoadOffline(cfg)
	} else {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		if err := session.Preflight(ctx, cfg); err != nil {
			t.Fatal(err)
		}
		idx, set, err = session.Load(ctx, cfg)
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range set.Warnings {
		t.Log(w.String())
	}
	for _, lib := range set.Skipped {
		t.Log(lib.Note())
	}
	all := set.Scenarios()
	chosen := scenario.Filter(all, cfg.Selection)
	if len(chosen) == 0 {
		t.Fatalf("TECHNIQUES=%q TACTICS=%q select none of the %d scenarios in %s",
			os.Getenv("TECHNIQUES"), os.Getenv("TACTICS"), len(all), cfg.Scenarios)
	}
	if specs, err = PlanSpecs(chosen, root, cfg.Repeat); err != nil {
		t.Fatal(err)
	}
	selected, err := Select(specs, suiteConfig.LabelFilter)
	if err != nil {
		t.Fatal(err)
	}
	inputs = session.Inputs{Rules: idx, All: all, LabelFilter: suiteConfig.LabelFilter}
	for _, s := range selected {
		inputs.Selected = append(inputs.Selected, s.Scenario)
	}
	if !suiteConfig.DryRun {
		// The tools image, or one a scenario names, may be missing.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := session.CheckVictimImages(ctx, cfg, inputs.Selected); err != nil {
			t.Fatal(err)
		}
	}
	RunSpecs(t, "attack-replay ATT&CK techniques")
}

var _ = BeforeSuite(func(ctx SpecContext) {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	var err error
	sess, err = session.Start(ctx, cfg, inputs, log)
	DeferCleanup(func(ctx SpecContext) { closeSession(ctx, err == nil) }, NodeTimeout(5*time.Minute))
	Expect(err).NotTo(HaveOccurred(), "Falco did not start with the candidate rules %v", cfg.Rules)
	fmt.Fprintf(os.Stderr, "attack-replay: %d of %d scenarios selected, %d worker(s), %d attempt(s) each\n",
		len(inputs.Selected), len(inputs.All), cfg.Workers, cfg.Repeat)
	progress = NewProgress(os.Stderr, len(inputs.Selected))
}, NodeTimeout(10*time.Minute))

// A scenario that could not be judged (ERROR, INCONCLUSIVE) skips its spec,
// so Ginkgo never lists it as a rule failure; this keeps the run from
// passing all the same, naming each one. It runs before the session is
// closed (BeforeSuite's DeferCleanup comes after AfterSuite).
var _ = AfterSuite(func() {
	if sess == nil {
		return
	}
	if msg := Unjudged(sess.Results()); msg != "" {
		Fail(msg)
	}
})

// junit.xml in REPORT_DIR: Ginkgo's JUnit report with the unjudged
// scenarios as <error>, apart from the rule failures.
var _ = ReportAfterSuite("junit.xml", func(report Report) {
	if cfg.ReportDir == "" || report.SuiteConfig.DryRun {
		return
	}
	Expect(WriteJUnit(report, filepath.Join(cfg.ReportDir, "junit.xml"))).To(Succeed())
})

// closeSession stops the run, writes the reports and prints the table per
// technique. When Falco did not start, BeforeSuite already failed with why.
func closeSession(ctx SpecContext, started bool) {
	rep, err := sess.Close(ctx)
	if !started {
		return
	}
	if rep != nil {
		fmt.Fprintln(os.Stdout)
		if werr := WriteTable(os.Stdout, rep); werr != nil {
			fmt.Fprintln(os.Stderr, "attack-replay: print summary:", werr)
		}
		fmt.Fprintf(os.Stdout, "\nreports: %s (report.md, report.html, report.json, navigator-layer.json)\n", cfg.ReportDir)
		if !rep.Summary.Trustworthy {
			fmt.Fprintln(os.Stdout, "WARNING: Falco dropped syscall events during this run: missing alerts prove nothing (see report.md).")
		}
	}
	Expect(err).NotTo(HaveOccurred(), "closing the run")
}

var _ = Describe("ATT&CK techniques", func() {
	for _, sp := range specs {
		It(sp.Text, Label(sp.Labels...), sp.Location, SpecTimeout(sp.Timeout), func(ctx SpecContext) {
			res, err := sess.Await(ctx, sp.Scenario.ID)
			Expect(err).NotTo(HaveOccurred())
			AddReportEntry("verdict", string(res.Outcome))
			progress.Report(res)
			if res.Outcome == verdict.Skip {
				// Honest: it was not run, and the reason says why.
				Skip(sp.Scenario.Skip)
			}
			if !Judged(res) {
				// Skipped, not failed: it says nothing about the rules.
				// AfterSuite fails the run for it. The detail is printed
				// here, as Ginkgo shows a skip's message only with -v.
				detail := HavePassed().FailureMessage(res)
				fmt.Fprintln(os.Stderr, detail)
				Skip(detail)
			}
			Expect(res).To(HavePassed())
		})
	}
})

// moduleRoot is the directory holding go.mod, above the test's package
// directory where `go test` starts it.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("find module root: no go.mod above %s", dir)
		}
	}
}
