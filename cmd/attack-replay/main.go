package main

import (
	"fmt"
	"io"
	"os"
	"strings"
)

// Exit statuses of every subcommand.
const (
	exitOK       = 0
	exitProblems = 1 // the rules or scenarios have problems
	exitUsage    = 2
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
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		usage(stdout)
		return exitOK
	}
	for _, c := range commands {
		if c.name == args[0] {
			return c.run(args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "attack-replay: unknown command %q\n\n", args[0])
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
	b.WriteString("\nRun attack-replay <command> -h for its flags. The replay itself is `make test-rules`.\n")
	io.WriteString(w, b.String())
}
