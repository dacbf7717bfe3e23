package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/attack-replay/attack-replay/harness/atomics"
)

// defaultAtomicsOut is where import-atomics writes without --out: a library
// of its own below the project's scenarios, which the default load leaves out.
const defaultAtomicsOut = "scenarios/atomics/"

func runImportAtomics(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("import-atomics", "Converts Atomic Red Team tests (an atomics file, or a directory such as\n"+
		"atomic-red-team/atomics) into scenarios: every test for linux with the sh or bash executor, with\n"+
		"input arguments at their defaults, dependencies as setup, and as expectation some candidate rule\n"+
		"tagged with the technique (or its parent). Writes OUT/<tactic>/<technique>.yaml, OUT/IMPORT.md\n"+
		"listing every test not imported and why, and OUT/library.yaml when missing. A re-import rewrites\n"+
		"the generated files byte for byte; put hand-written scenarios in <technique>.local.yaml next to\n"+
		"them. Tests that reach the network are skipped unless --allow-network. Exits 1 when a file did\n"+
		"not parse (the others are imported).", stderr, "DIR_OR_FILE")
	out := fs.String("out", defaultAtomicsOut, "output `directory`: a scenario library (load it with --scenarios)")
	allowNetwork := fs.Bool("allow-network", false, "let tests that reach the network run instead of skipping them")
	src, code, ok := parseInterleaved(fs, args)
	if !ok {
		return code
	}
	r, err := atomics.Import(src, *out, atomics.Options{AllowNetwork: *allowNetwork})
	if err != nil {
		fmt.Fprintf(stderr, "attack-replay import-atomics: %v\n", err)
		return exitUsage
	}
	for _, p := range r.Problems {
		fmt.Fprintln(stderr, p)
	}
	fmt.Fprint(stdout, r.Summary())
	for _, f := range r.Written {
		fmt.Fprintf(stdout, "wrote %s\n", f)
	}
	for _, f := range r.Removed {
		fmt.Fprintf(stdout, "removed %s: none of its tests is imported any more\n", f)
	}
	fmt.Fprintf(stdout, "load them with: attack-replay validate --scenarios %s\n", *out)
	if r.Failed() {
		return exitProblems
	}
	return exitOK
}

// parseInterleaved parses flags before and after the one operand, as
// "import-atomics DIR --out X" writes them (flag alone stops at the first
// operand).
func parseInterleaved(fs *flag.FlagSet, args []string) (string, int, bool) {
	var operands []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return "", exitOK, false
			}
			return "", exitUsage, false
		}
		if fs.NArg() == 0 {
			break
		}
		operands = append(operands, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(operands) != 1 {
		fmt.Fprintf(fs.Output(), "attack-replay %s: want one DIR_OR_FILE, got %s %q\n", fs.Name(), plural(len(operands), "argument"), operands)
		fs.Usage()
		return "", exitUsage, false
	}
	return operands[0], 0, true
}
