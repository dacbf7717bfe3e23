package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/attack-replay/attack-replay/harness/report"
)

// Exit statuses of every subcommand. They are the report package's, so
// coverage and diff exit with what their results say.
const (
	exitOK       = report.ExitOK      // all is well
	exitProblems = report.ExitFailed  // problems in the files, a failed gate, a regression, a stale catalog
	exitUsage    = report.ExitBadArgs // a usage error, or input that cannot be read or written
)

// command is one subcommand. Each parses its own flags (flag.FlagSet) from
// args and writes results on stdout, problems on stderr.
type command struct {
	name    string
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
}

// commands lists the subcommands in the order usage shows them.
var commands = []command{
	{name: "validate", summary: "check every rules and scenario file, print each problem as path:line:col", run: runValidate},
	{name: "list", summary: "print the techniques, their scenarios and the rules each scenario names", run: runList},
	{name: "coverage", summary: "measure how many candidate rules the scenarios expect; gate on it with --fail-under", run: runCoverage},
	{name: "catalog", summary: "print, write or check the README's table of shipped techniques", run: runCatalog},
	{name: "diff", summary: "compare two report.json files; exit 1 when head regressed", run: runDiff},
	{name: "doctor", summary: "tell whether Falco will start on this host, and what to do where not", run: runDoctor},
	{name: "matrix", summary: "set the reports of several Falco versions side by side; flag the scenarios they disagree on", run: runMatrix},
	{name: "check-config", summary: "check the configuration of make test-rules (its environment variables, REPORT_DIR)", run: runCheckConfig},
	{name: "import-atomics", summary: "convert Atomic Red Team tests into scenarios; list those it cannot convert, and why", run: runImportAtomics},
	{name: "mutate", summary: "run mutants of the rules next to them; report, per rule, the mutants no scenario notices", run: runMutate},
	{name: "rehearse", summary: "run the scenarios' steps in real victims without Falco; exit 1 when a step does not run as declared", run: runRehearse},
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	switch {
	case args[0] == "help" && len(args) == 2:
		// The command's own -h, on stdout: help was asked for.
		if c, ok := lookup(args[1]); ok {
			return c.run([]string{"-h"}, stdout, stdout)
		}
		return unknown(args[1], stderr)
	case args[0] == "help" && len(args) > 2:
		fmt.Fprintf(stderr, "attack-replay help: want one command, got %d (attack-replay help <command>)\n", len(args)-1)
		return exitUsage
	case args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help":
		usage(stdout)
		return exitOK
	}
	if c, ok := lookup(args[0]); ok {
		return c.run(args[1:], stdout, stderr)
	}
	return unknown(args[0], stderr)
}

func lookup(name string) (command, bool) {
	for _, c := range commands {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

func unknown(name string, stderr io.Writer) int {
	fmt.Fprintf(stderr, "attack-replay: unknown command %q\n\n", name)
	usage(stderr)
	return exitUsage
}

func usage(w io.Writer) {
	var b strings.Builder
	b.WriteString("attack-replay tests Falco rules against MITRE ATT&CK scenarios.\n\n")
	b.WriteString("Usage: attack-replay <command> [flags]\n\nCommands:\n")
	width := 0
	for _, c := range commands {
		width = max(width, len(c.name))
	}
	for _, c := range commands {
		fmt.Fprintf(&b, "  %-*s  %s\n", width, c.name, c.summary)
	}
	b.WriteString("\nRun attack-replay help <command> (or <command> -h) for its flags. The replay itself is\n`make test-rules`.\n\n")
	b.WriteString("Exit status: 0 all is well; 1 problems in the files, a failed coverage gate, a regression,\n")
	b.WriteString("a stale catalog, a failed doctor check, a differing matrix (--fail-on-diff) or a step that\n")
	b.WriteString("did not run as declared; 2 a usage error or input that cannot be read or written.\n")
	io.WriteString(w, b.String())
}
