package atomics

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/attack-replay/attack-replay/harness/attack"
)

// Options of a conversion.
type Options struct {
	// AllowNetwork keeps tests that reach the network runnable; without it
	// their scenarios carry a skip saying what they reach.
	AllowNetwork bool
}

// Conversion is what Convert made of one atomics file.
type Conversion struct {
	Source *Technique
	// Technique is the id of this ATT&CK release (a renumbered id replaced
	// by its successor) and Tactic its first tactic in kill-chain order;
	// both empty when the release knows neither the id nor a successor.
	Technique   attack.TechniqueID
	Tactic      attack.Tactic
	Scenarios   []Scenario
	Unsupported []Unsupported
}

// Scenario is one converted atomic test.
type Scenario struct {
	ID          string
	Test        Test
	Description string
	Skip        string // why it must not run by default ("" = it runs)
	Setup       []Step // one per dependency
	Steps       []Step
	Cleanup     []Step
}

// Step is a run (sh executor: /bin/sh -c) or an exec (bash executor: bash -c).
type Step struct {
	Run  string
	Exec []string
}

// Unsupported is an atomic test that was not converted, and why.
type Unsupported struct {
	Test   Test
	Reason string
}

// Executors the victim runs.
const (
	executorSh   = "sh"
	executorBash = "bash"
)

// linux is the supported_platforms value of tests that run on Linux.
const linux = "linux"

// inputRef is how commands use an input argument: #{name}.
var inputRef = regexp.MustCompile(`#\{([^}]*)\}`)

// atomicsFolder is Atomic Red Team's placeholder for the path of its
// atomics checkout (payloads under atomics/T*/src, bin): the victim has no
// such checkout.
var atomicsFolder = regexp.MustCompile(`\$?PathToAtomicsFolder[^\s'"]*`)

// Convert turns every test of t that runs on Linux with sh or bash into a
// scenario and lists every other one with the reason. prior maps the
// auto_generated_guid of tests imported before to their scenario ids, so
// that an id stays the same when tests are added or reordered upstream.
func Convert(t *Technique, opts Options, prior map[string]string) Conversion {
	c := Conversion{Source: t}
	id, ok := currentID(t.ID)
	if !ok {
		reason := fmt.Sprintf("technique %s: %v", t.ID, attack.TechniqueID(t.ID).Validate())
		for _, test := range t.Tests {
			c.Unsupported = append(c.Unsupported, Unsupported{Test: test, Reason: reason})
		}
		return c
	}
	tech, _ := attack.Lookup(id)
	c.Technique, c.Tactic = id, tech.Tactics[0]
	taken := map[string]bool{}
	for _, sid := range prior {
		taken[sid] = true
	}
	for _, test := range t.Tests {
		s, reason := convertTest(test, opts)
		if reason != "" {
			c.Unsupported = append(c.Unsupported, Unsupported{Test: test, Reason: reason})
			continue
		}
		s.ID = scenarioID(t.ID, test, prior, taken)
		taken[s.ID] = true
		c.Scenarios = append(c.Scenarios, s)
	}
	return c
}

// currentID is the id this ATT&CK release gives the technique.
func currentID(raw string) (attack.TechniqueID, bool) {
	id := attack.TechniqueID(strings.TrimSpace(raw))
	if _, ok := attack.Lookup(id); ok {
		return id, true
	}
	if s, ok := attack.Successor(id); ok {
		return s.ID, true
	}
	return "", false
}

// convertTest converts one test, or says why it cannot.
func convertTest(t Test, opts Options) (Scenario, string) {
	if !slices.Contains(t.Platforms, linux) {
		if len(t.Platforms) == 0 {
			return Scenario{}, "no supported_platforms: the victim is Linux"
		}
		return Scenario{}, fmt.Sprintf("supported_platforms %s: not linux", strings.Join(t.Platforms, ", "))
	}
	if why := unsupportedExecutor("executor", t.Executor.Name); why != "" {
		return Scenario{}, why
	}
	if strings.TrimSpace(t.Executor.Command) == "" {
		return Scenario{}, "the executor has no command"
	}
	depExecutor := cmp.Or(t.DependencyExecutor, t.Executor.Name)
	if len(t.Dependencies) > 0 {
		if why := unsupportedExecutor("dependency_executor_name", depExecutor); why != "" {
			return Scenario{}, why
		}
	}

	s := Scenario{Test: t, Description: description(t)}
	// network records the first place that reaches the network.
	var network string
	mark := func(where, script string) {
		if what, ok := reachesNetwork(script); ok && network == "" {
			network = fmt.Sprintf("%s: %s", where, what)
		}
	}
	command, why := substitute(t, "command", t.Executor.Command)
	if why != "" {
		return Scenario{}, why
	}
	mark("command", command)
	for i, d := range t.Dependencies {
		if strings.TrimSpace(d.Prereq) == "" {
			return Scenario{}, fmt.Sprintf("dependency %d has no prereq_command to check it", i+1)
		}
		prereq, why := substitute(t, fmt.Sprintf("prereq_command of dependency %d", i+1), d.Prereq)
		if why != "" {
			return Scenario{}, why
		}
		get, why := substitute(t, fmt.Sprintf("get_prereq_command of dependency %d", i+1), d.GetPrereq)
		if why != "" {
			return Scenario{}, why
		}
		mark(fmt.Sprintf("prereq_command of dependency %d", i+1), prereq)
		mark(fmt.Sprintf("get_prereq_command of dependency %d", i+1), get)
		s.Setup = append(s.Setup, shellStep(depExecutor, prerequisiteScript(i+1, d.Description, prereq, get)))
	}
	s.Steps = []Step{shellStep(t.Executor.Name, command)}
	if strings.TrimSpace(t.Executor.Cleanup) != "" {
		cleanup, why := substitute(t, "cleanup_command", t.Executor.Cleanup)
		if why != "" {
			return Scenario{}, why
		}
		mark("cleanup_command", cleanup)
		s.Cleanup = []Step{shellStep(t.Executor.Name, cleanup)}
	}
	if network != "" && !opts.AllowNetwork {
		s.Skip = fmt.Sprintf("reaches the network (%s); re-import with --allow-network", network)
	}
	return s, ""
}

// unsupportedExecutor says why the victim cannot run an executor, or "".
func unsupportedExecutor(key, name string) string {
	switch name {
	case executorSh, executorBash:
		return ""
	case "command_prompt", "powershell":
		return fmt.Sprintf("%s %s runs on Windows; the victim runs sh and bash", key, name)
	case "manual":
		return fmt.Sprintf("%s manual: its steps are instructions for a person, not commands", key)
	case "":
		return key + " has no name"
	}
	return fmt.Sprintf("%s %s: the victim runs sh and bash only", key, name)
}

// substitute replaces every #{name} of script by the input argument's
// default, or says why it cannot: an argument the test does not define, one
// without a default, a path into the atomics folder.
func substitute(t Test, where, script string) (string, string) {
	var why string
	out := inputRef.ReplaceAllStringFunc(script, func(ref string) string {
		name := inputRef.FindStringSubmatch(ref)[1]
		in, ok := t.Input(name)
		switch {
		case why != "":
		case !ok:
			why = fmt.Sprintf("%s uses #{%s}, which input_arguments does not define", where, name)
		case !in.HasDefault:
			why = fmt.Sprintf("%s uses input argument %q, which has no default", where, name)
		}
		return in.Default
	})
	if why != "" {
		return "", why
	}
	if m := atomicsFolder.FindString(out); m != "" {
		return "", fmt.Sprintf("%s needs %s from an Atomic Red Team checkout, which the victim does not hold", where, m)
	}
	return strings.TrimRight(out, " \t\n"), ""
}

// shellStep runs a script with the executor: sh as a run step (/bin/sh -c),
// bash as an exec of bash -c (bash's own syntax, and bash as the process's
// parent, as Atomic Red Team runs it).
func shellStep(executor, script string) Step {
	if executor == executorBash {
		return Step{Exec: []string{"bash", "-c", script}}
	}
	return Step{Run: script}
}

// prerequisiteScript checks a dependency the way Invoke-AtomicTest
// -GetPrereqs does: run prereq_command; when it fails run
// get_prereq_command and check again. When the prerequisite is still not
// met the script exits 1 and its last line says so, with the last line the
// check printed: the verdict's reason quotes it, so the scenario is an error
// naming the prerequisite, never a rule failure. prereq_command runs in a
// subshell function, since Atomic Red Team's checks end with exit 0 or 1.
func prerequisiteScript(n int, desc, prereq, get string) string {
	desc = firstLine(desc)
	var b strings.Builder
	fmt.Fprintf(&b, "# prerequisite %d: %s\n", n, desc)
	fmt.Fprintf(&b, "prereq() (\n%s\n)\n", prereq)
	if strings.TrimSpace(get) != "" {
		fmt.Fprintf(&b, "get_prereq() (\n%s\n)\n", get)
	}
	b.WriteString("if ! prereq >/dev/null 2>&1; then\n")
	if strings.TrimSpace(get) != "" {
		b.WriteString("  get_prereq\n")
	}
	b.WriteString("  if ! out=$(prereq 2>&1); then\n")
	b.WriteString("    printf '%s\\n' \"$out\" >&2\n")
	fmt.Fprintf(&b, "    printf 'prerequisite %d not met (%%s): %%s\\n' %s \"$(printf '%%s\\n' \"$out\" | tail -n 1)\" >&2\n", n, shellQuote(desc))
	b.WriteString("    exit 1\n  fi\nfi")
	return b.String()
}

func description(t Test) string {
	d := strings.TrimSpace(t.Description)
	if d == "" {
		return t.Name
	}
	return t.Name + ": " + d
}

// scenarioID is art-<technique>-<number>-<slug of the name>, or the id the
// test had before (by its guid). A positional id another test already holds
// gets the guid's first block.
func scenarioID(technique string, t Test, prior map[string]string, taken map[string]bool) string {
	if id, ok := prior[t.GUID]; ok && t.GUID != "" {
		return id
	}
	id := fmt.Sprintf("art-%s-%d", slug(technique), t.Number)
	if s := slug(t.Name); s != "" {
		id += "-" + s
	}
	if taken[id] && t.GUID != "" {
		id += "-" + slug(strings.SplitN(t.GUID, "-", 2)[0])
	}
	for n, base := 2, id; taken[id]; n++ {
		id = fmt.Sprintf("%s-%d", base, n)
	}
	return id
}

// maxSlug bounds the part of an id taken from a test's name.
const maxSlug = 48

var nonAlnum = regexp.MustCompile(`[^a-z0-9]+`)

// slug is s in lower case with every run of other characters a dash.
func slug(s string) string {
	out := strings.Trim(nonAlnum.ReplaceAllString(strings.ToLower(s), "-"), "-")
	if len(out) > maxSlug {
		out = out[:maxSlug]
		if i := strings.LastIndexByte(out, '-'); i > 0 {
			out = out[:i]
		}
	}
	return out
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = strings.TrimSpace(s[:i])
	}
	return s
}

// shellQuote quotes s for sh in single quotes.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
