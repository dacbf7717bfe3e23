package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/attack-replay/attack-replay/harness/report"
)

func runDiff(args []string, stdout, stderr io.Writer) int {
	defaults := report.DefaultDiffOptions()
	fs := newFlagSet("diff", "Compares the head run's report.json with the base run's, scenario by scenario id and\n"+
		"candidate rule by name. Prints the verdict and each regression on stdout; --markdown\n"+
		"writes the whole comparison as Markdown (for a pull-request comment or job summary).\n"+
		"A regression is a scenario newly failing, a benign scenario newly failing (a new false\n"+
		"positive), a new error, or a p50 latency grown past both latency thresholds.\n"+
		"Exits 1 on any regression, 2 when a report cannot be read.", stderr, "BASE.json", "HEAD.json")
	var markdown string
	fs.StringVar(&markdown, "markdown", "", "also write the comparison as Markdown to `FILE`; - prints it on stdout instead of the verdict")
	threshold := 100 * defaults.LatencyRelative
	fs.Float64Var(&threshold, "latency-threshold", threshold, "a p50 latency regresses when it grows by more than `PCT` percent")
	fs.DurationVar(&defaults.LatencyAbsolute, "latency-min", defaults.LatencyAbsolute, "a p50 latency regresses only when it also grows by at least this `duration`")
	if code, ok := parseFlags(fs, args, "BASE.json", "HEAD.json"); !ok {
		return code
	}
	if threshold < 0 || defaults.LatencyAbsolute < 0 {
		fmt.Fprintf(stderr, "attack-replay diff: --latency-threshold and --latency-min must not be negative\n")
		return exitUsage
	}
	opts := report.DiffOptions{LatencyRelative: threshold / 100, LatencyAbsolute: defaults.LatencyAbsolute}
	d, err := report.DiffFiles(fs.Arg(0), fs.Arg(1), opts)
	if err != nil {
		fmt.Fprintf(stderr, "attack-replay diff: %v\n", err)
		return exitUsage
	}
	switch markdown {
	case "-":
		io.WriteString(stdout, d.Markdown())
	case "":
		io.WriteString(stdout, diffText(d))
	default:
		if err := os.WriteFile(markdown, []byte(d.Markdown()), 0o644); err != nil {
			fmt.Fprintf(stderr, "attack-replay diff: write markdown: %v\n", err)
			return exitUsage
		}
		io.WriteString(stdout, diffText(d))
	}
	return d.ExitCode()
}

// diffText is the verdict for a terminal or a CI log: the summary, one line
// per regression, then what weakens the comparison. The Markdown has the rest.
func diffText(d report.DiffReport) string {
	var b strings.Builder
	b.WriteString(d.Summary() + "\n")
	changes := func(what string, cs []report.Change) {
		for _, c := range cs {
			fmt.Fprintf(&b, "  %s: %s (%s %s) %s -> %s", what, c.Scenario, c.Technique, c.Tactic, orAbsent(c.Base), orAbsent(c.Head))
			if c.File != "" {
				fmt.Fprintf(&b, " at %s:%d", c.File, c.Line)
			}
			if c.Reason != "" {
				fmt.Fprintf(&b, ": %s", c.Reason)
			}
			b.WriteString("\n")
		}
	}
	changes("newly failing", d.NewlyFailing)
	changes("new false positive", d.NewFalsePositives)
	changes("new error", d.NewErrors)
	for _, l := range d.LatencyRegressions {
		fmt.Fprintf(&b, "  latency regression: %s (%s) p50 %s -> %s\n", l.Scenario, l.Technique, l.Base, l.Head)
	}
	for _, n := range d.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	return b.String()
}

func orAbsent(status string) string {
	if status == "" {
		return "absent"
	}
	return status
}
