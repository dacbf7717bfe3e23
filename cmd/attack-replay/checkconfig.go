package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/attack-replay/attack-replay/harness/session"
)

// runCheckConfig checks the configuration of `make test-rules`, which runs it first: a bad
// variable or an unwritable REPORT_DIR is reported at once, before the Falco image is looked
// for or anything is built.
func runCheckConfig(args []string, stdout, stderr io.Writer) int {
	return checkConfig(args, os.Getenv, stdout, stderr)
}

func checkConfig(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := newFlagSet("check-config", "Reads the configuration of `make test-rules` from the environment (README: Configuration)\n"+
		"and checks every variable, the TECHNIQUES and TACTICS against ATT&CK, and that REPORT_DIR\n"+
		"can be written (it is created). Prints each problem on stderr, naming its variable.", stderr)
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	cfg, err := session.Check(getenv)
	var ce *session.ConfigError
	switch {
	case errors.As(err, &ce):
		for _, p := range ce.Problems {
			fmt.Fprintln(stderr, "attack-replay: "+p)
		}
		fmt.Fprintf(stderr, "attack-replay check-config: %s; nothing was started\n", plural(len(ce.Problems), "bad variable"))
		return exitUsage
	case err != nil:
		fmt.Fprintf(stderr, "attack-replay check-config: %v\n", err)
		return exitUsage
	}
	fmt.Fprintf(stdout, "configuration ok: %d worker(s), %d attempt(s) per scenario, reports in %s\n", cfg.Workers, cfg.Repeat, cfg.ReportDir)
	return exitOK
}
