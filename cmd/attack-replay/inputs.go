package main

import (
	"cmp"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/attack-replay/attack-replay/harness/attack"
	"github.com/attack-replay/attack-replay/harness/rules"
	"github.com/attack-replay/attack-replay/harness/scenario"
)

// Defaults of --rules and --scenarios: the repository's own layout.
const (
	defaultRules     = "rules/"
	defaultScenarios = "scenarios/"
)

// pathList is a flag that may be given several times.
type pathList []string

func (p *pathList) String() string { return strings.Join(*p, ",") }

func (p *pathList) Set(v string) error {
	if v == "" {
		return errors.New("empty path")
	}
	*p = append(*p, v)
	return nil
}

// inputs are the flags every subcommand that reads the files shares.
type inputs struct {
	rules     pathList
	scenarios string
}

func (in *inputs) register(fs *flag.FlagSet) {
	fs.Var(&in.rules, "rules", "Falco rules `file or directory`; repeat for several, loaded in the order given (default "+defaultRules+")")
	fs.StringVar(&in.scenarios, "scenarios", defaultScenarios, "scenarios `directory` (scenarios/<tactic>/<technique>.yaml; a library such as scenarios/upstream loads on its own)")
}

// loaded is what a subcommand reads: the rules index, the scenarios checked
// against it, and every problem and warning of both, formatted one per line.
type loaded struct {
	index       *rules.Index
	set         *scenario.Set
	notes       []string // libraries the load left out, and how to load them
	errors      []string
	warnings    []string
	rulesFailed bool // the scenarios were checked against part of the rules
}

// rulesPaths are the --rules paths, or the default when none was given.
func (in *inputs) rulesPaths() []string {
	if len(in.rules) == 0 {
		return []string{defaultRules}
	}
	return in.rules
}

func (in *inputs) load() loaded {
	var l loaded
	idx, err := rules.LoadPaths(in.rulesPaths()...)
	l.index, l.rulesFailed = idx, err != nil
	var problems []rules.Problem
	var rle *rules.LoadError
	if errors.As(err, &rle) {
		problems = rle.Problems
	} else if err != nil {
		l.errors = []string{err.Error()}
	}
	warnings := idx.Warnings()
	// What Falco finds only when it compiles the rules, in file order
	// with the rest.
	for _, p := range idx.Check() {
		if p.Warning {
			warnings = append(warnings, p)
		} else {
			problems = append(problems, p)
		}
	}
	byPosition := func(a, b rules.Problem) int { return a.Pos.Compare(b.Pos) }
	slices.SortStableFunc(problems, byPosition)
	slices.SortStableFunc(warnings, byPosition)
	l.errors = append(l.errors, lines(problems)...)
	l.warnings = lines(warnings)
	set, err := scenario.LoadDir(in.scenarios, scenario.Options{Rules: idx})
	l.set = set
	var sle *scenario.LoadError
	if errors.As(err, &sle) {
		l.errors = append(l.errors, lines(sle.Problems)...)
	} else if err != nil {
		l.errors = append(l.errors, err.Error())
	}
	l.warnings = append(l.warnings, lines(set.Warnings)...)
	for _, lib := range set.Skipped {
		l.notes = append(l.notes, lib.Note())
	}
	return l
}

// lines formats problems one per line.
func lines[P fmt.Stringer](problems []P) []string {
	out := make([]string, len(problems))
	for i, p := range problems {
		out[i] = p.String()
	}
	return out
}

// parseAndLoad runs the start of a command whose only flags are --rules and
// --scenarios: it parses them and loads the files. It returns false with the
// exit status when the command must stop.
func parseAndLoad(name, synopsis string, args []string, stderr io.Writer) (loaded, int, bool) {
	fs := newFlagSet(name, synopsis, stderr)
	var in inputs
	in.register(fs)
	if code, ok := parseFlags(fs, args); !ok {
		return loaded{}, code, false
	}
	return in.load(), exitOK, true
}

// report prints warnings and then problems on stderr, one per line, and
// a count last; it returns the exit status.
func (l loaded) report(name string, stderr io.Writer) int {
	for _, n := range l.notes {
		fmt.Fprintln(stderr, n)
	}
	for _, w := range l.warnings {
		fmt.Fprintln(stderr, w)
	}
	for _, e := range l.errors {
		fmt.Fprintln(stderr, e)
	}
	if len(l.errors) == 0 {
		return exitOK
	}
	msg := fmt.Sprintf("attack-replay %s: %s", name, plural(len(l.errors), "problem"))
	if l.rulesFailed {
		msg += " (scenarios were checked against the rules that did load)"
	}
	fmt.Fprintln(stderr, msg)
	return exitProblems
}

// parseFlags parses a subcommand's flags and checks that exactly the named
// operands follow them; it returns false with the exit status when the
// command must stop.
func parseFlags(fs *flag.FlagSet, args []string, operands ...string) (int, bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK, false
		}
		return exitUsage, false
	}
	switch {
	case fs.NArg() == len(operands):
		return 0, true
	case len(operands) == 0:
		hint := " (the command takes flags only)"
		if fs.Lookup("rules") != nil {
			hint = " (give paths with --rules and --scenarios)"
		}
		fmt.Fprintf(fs.Output(), "attack-replay %s: unexpected argument %q%s\n", fs.Name(), fs.Arg(0), hint)
	default:
		// flag stops at the first operand, so a flag after the files
		// arrives here as one more operand: say so.
		hint := ""
		if slices.ContainsFunc(fs.Args(), func(a string) bool { return strings.HasPrefix(a, "-") }) {
			hint = " (flags go before the files)"
		}
		fmt.Fprintf(fs.Output(), "attack-replay %s: want %s, got %s %q%s\n",
			fs.Name(), strings.Join(operands, " and "), plural(fs.NArg(), "argument"), fs.Args(), hint)
	}
	fs.Usage()
	return exitUsage, false
}

// newFlagSet makes a subcommand's flag set; operands are shown after
// [flags] in its usage line.
func newFlagSet(name, synopsis string, stderr io.Writer, operands ...string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	line := strings.Join(append([]string{"attack-replay", name, "[flags]"}, operands...), " ")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: %s\n\n%s\n", line, synopsis)
		flags := 0
		fs.VisitAll(func(*flag.Flag) { flags++ })
		if flags > 0 {
			fmt.Fprint(fs.Output(), "\nFlags:\n")
			fs.PrintDefaults()
		}
	}
	return fs
}

// byKillChain sorts technique files the way ATT&CK lists them: by tactic
// in kill-chain order, then by technique id, then by path.
func byKillChain(files []*scenario.File) []*scenario.File {
	out := slices.Clone(files)
	slices.SortStableFunc(out, func(a, b *scenario.File) int {
		return cmp.Or(cmp.Compare(a.Tactic.Order(), b.Tactic.Order()), cmp.Compare(a.Technique, b.Technique), cmp.Compare(a.Path, b.Path))
	})
	return out
}

// tally counts what technique files hold.
type tally struct {
	techniques, tactics int
	attacks, benign     int
}

func count(files []*scenario.File) tally {
	techniques, tactics := map[attack.TechniqueID]bool{}, map[attack.Tactic]bool{}
	var t tally
	for _, f := range files {
		techniques[f.Technique], tactics[f.Tactic] = true, true
		for _, s := range f.Scenarios {
			if s.Benign {
				t.benign++
			} else {
				t.attacks++
			}
		}
	}
	t.techniques, t.tactics = len(techniques), len(tactics)
	return t
}

// scenarios says "4 scenarios (2 attack, 2 benign)".
func (t tally) scenarios() string {
	return fmt.Sprintf("%s (%d attack, %d benign)", plural(t.attacks+t.benign, "scenario"), t.attacks, t.benign)
}

func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}
