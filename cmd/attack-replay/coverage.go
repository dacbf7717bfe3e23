package main

import (
	"fmt"
	"io"

	"github.com/attack-replay/attack-replay/harness/report"
)

func runCoverage(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("coverage", "Measures how many candidate rules (--rules) at least one scenario expects, and lists\n"+
		"the rules no scenario expects, the techniques rules are tagged with but no scenario\n"+
		"emulates, scenarios naming rules no file defines, and rule tags out of date with ATT&CK.\n"+
		"Exits 1 when a gate (--fail-under, --require-all-rules) fails, 2 when the files do not load.", stderr)
	var in inputs
	in.register(fs)
	var upstream pathList
	fs.Var(&upstream, "upstream", "rules `file or directory` loaded before --rules only for its macros, lists and rule names\n(e.g. Falco's falco_rules.yaml), so scenarios forbidding its rules are not dangling; repeat for several")
	var gate report.Gate
	fs.Float64Var(&gate.FailUnder, "fail-under", 0, "fail when fewer than `PCT` percent of the candidate rules are expected by a scenario (0 disables)")
	fs.BoolVar(&gate.RequireAllRules, "require-all-rules", false, "fail when any candidate rule has no scenario expecting it")
	fs.BoolVar(&gate.RequireTwins, "require-twins", false, "fail when any candidate rule lacks an attack that expects it and a benign twin that forbids it by name\n(a rule whose scenarios are all skipped, with their reasons, passes)")
	var opts report.CoverageOptions
	fs.BoolVar(&opts.IncludeDisabled, "include-disabled", false, "measure the rules their files disable (enabled: false) too, also when no scenario names them")
	perRule := false
	fs.BoolVar(&perRule, "per-rule", false, "list every measured rule with its status (attack+twin, attack only, twin only, skipped, missing),\nits ATT&CK tags mapped to this release's ids, its scenarios and skip reasons")
	format := "text"
	fs.StringVar(&format, "format", format, "output `format`: text or markdown (for a pull-request comment or job summary)")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if gate.FailUnder < 0 || gate.FailUnder > 100 {
		fmt.Fprintf(stderr, "attack-replay coverage: --fail-under %g is not a percentage (give 0 to 100)\n", gate.FailUnder)
		return exitUsage
	}
	if format != "text" && format != "markdown" {
		fmt.Fprintf(stderr, "attack-replay coverage: unknown --format %q (use text or markdown)\n", format)
		return exitUsage
	}
	res, err := report.CoverageFromPaths(report.CoverageInputs{Rules: in.rulesPaths(), Upstream: upstream, Scenarios: in.scenarios, Options: opts}, gate)
	if err != nil {
		fmt.Fprintf(stderr, "attack-replay coverage: %v\n", err)
		return exitUsage
	}
	res.PerRule = perRule
	if format == "markdown" {
		io.WriteString(stdout, res.Markdown())
	} else {
		io.WriteString(stdout, res.Text())
	}
	return res.ExitCode()
}
