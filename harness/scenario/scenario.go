package scenario

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/attack-replay/attack-replay/harness/attack"
	"github.com/attack-replay/attack-replay/harness/rules"
)

// Defaults applied by the loader where a scenario or step says nothing.
const (
	DefaultScenarioTimeout = 2 * time.Minute
	DefaultStepTimeout     = 30 * time.Second
)

// Bounds of a sleep step: long enough for rules about activity "after
// startup", short enough that a typo (6m for 6s) does not stall a run.
const (
	MinSleep = time.Millisecond
	MaxSleep = 60 * time.Second
)

// Image aliases of Victim.Image: the run's two victim images
// ($VICTIM_IMAGE and $VICTIM_TOOLS_IMAGE).
const (
	ImageDefault = "default"
	ImageTools   = "tools"
)

// Networks a victim may ask for. "" is none: the runner gives a victim no network unless asked.
const (
	NetworkNone   = "none"
	NetworkBridge = "bridge"
)

// AnyRule in a matcher's rule means "any candidate rule" (never the
// harness's own barrier rule, never rules loaded only for their macros).
const AnyRule = "*"

// File is one technique file: scenarios/[<group>/...]<tactic>/<technique>.yaml.
type File struct {
	Path      string // as loaded, relative to the FS root
	Technique attack.TechniqueID
	Tactic    attack.Tactic
	Name      string
	Scenarios []*Scenario // with those of Local after the file's own
	// Local is the <technique>.local.yaml next to the file whose scenarios
	// the load added to it ("" when there is none).
	Local string
}

// Scenario is one emulation of a technique in a fresh victim container.
type Scenario struct {
	ID          string
	Description string
	// Benign marks a false-positive check: activity that resembles the
	// technique and must not raise the rules it forbids.
	Benign  bool
	User    string            // user for steps ("" = root); setup and cleanup run as root unless a step says otherwise
	Env     map[string]string // environment of every exec
	Workdir string            // working directory of every exec ("" = the image's)
	Timeout time.Duration     // whole scenario, victim start to removal
	Setup   []Step            // prepares the victim; alerts recorded, never asserted
	Steps   []Step            // the emulation; its alerts are judged
	Cleanup []Step            // runs after the verdict; failures are reported, never judged
	Expect  []Matcher         // each must match between Min and Max alerts of the steps
	Forbid  []Matcher         // none may match any alert of the steps
	// ForbidOthers forbids every candidate rule that no expect matcher
	// names: the scenario asserts the exact set of rules that fire.
	ForbidOthers bool
	// Skip, when set, is why the scenario cannot run here: it is loaded and
	// checked, never run, and reported as skipped with this reason.
	Skip   string
	Victim Victim // the victim's shape; the zero value is the run's default victim

	// Set by the loader.
	File          string // path of the technique file
	Line, Column  int    // position of the scenario in File
	Technique     attack.TechniqueID
	Tactic        attack.Tactic
	TechniqueName string
}

// Victim is the shape a scenario asks of its victim container. Every field is
// optional; a victim that cannot be given what it asks for makes the
// scenario an error, never a silent pass.
type Victim struct {
	// Image is ImageDefault or "" (the run's victim image), ImageTools (the
	// run's tools image) or an image name the engine holds.
	Image      string
	CapAdd     []string // capability names without CAP_, in file order
	CapDrop    []string
	Privileged bool     // ask for a privileged victim; where refused, the widest capability set (the verdict says so)
	ExtraHosts []string // /etc/hosts entries, "name:ip"
	ReadOnly   bool     // read-only root filesystem
	Network    string   // "", NetworkNone or NetworkBridge
	Line       int      // position of the victim key; 0 when the scenario has none
	Column     int
}

// Step is one thing the harness does in the victim: a shell command (Run,
// with /bin/sh -c), an argv run directly by the container runtime (Exec: no
// shell, the process's parent is runc or containerd-shim), or a wait
// (Sleep: no exec at all). Exactly one of the three is set.
type Step struct {
	Run   string
	Exec  []string
	Sleep time.Duration
	TTY   bool // give the process a terminal (docker exec -t)
	// Exit lists the exit statuses the step must end with; a mismatch makes
	// the scenario an error. Nil accepts any status but 126 and 127 (in
	// setup: only 0). must_succeed: true is Exit [0].
	Exit    []int
	Timeout time.Duration // the process is killed when it runs longer
	User    string        // overrides the scenario's user for this step
	Line    int
	Column  int
}

// IsSleep reports whether the step only waits.
func (s Step) IsSleep() bool { return s.Sleep > 0 }

// Command names what the step runs the way the file wrote it: the shell
// command of a run step, "exec: [cat, /etc/passwd]" or "sleep: 6s".
func (s Step) Command() string { return CommandText(s.Run, s.Exec, s.Sleep) }

// CommandText is Step.Command for a step known by its parts, as step
// results keep them.
func CommandText(run string, argv []string, sleep time.Duration) string {
	switch {
	case sleep > 0:
		return "sleep: " + sleep.String()
	case len(argv) > 0:
		args := make([]string, len(argv))
		for i, a := range argv {
			args[i] = a
			if a == "" || strings.ContainsAny(a, " ,[]{}\"'#:\t\n") {
				args[i] = strconv.Quote(a)
			}
		}
		return "exec: [" + strings.Join(args, ", ") + "]"
	}
	return run
}

// ExitText says which exit statuses are expected: "0", "0 or 1", "one of 0, 1, 2".
func ExitText(codes []int) string {
	s := make([]string, len(codes))
	for i, c := range codes {
		s[i] = strconv.Itoa(c)
	}
	switch len(s) {
	case 0:
		return "any"
	case 1:
		return s[0]
	case 2:
		return s[0] + " or " + s[1]
	}
	return fmt.Sprintf("one of %s", strings.Join(s, ", "))
}

// Matcher selects alerts. Every set criterion must hold. In expect, Min and
// Max bound how many alerts of the steps match (Min defaults to 1); in
// forbid they are not allowed.
type Matcher struct {
	Rule     string          // exact rule name, or AnyRule
	Priority *rules.Priority // exact priority when set
	Output   *TextMatch      // the rendered output line
	Fields   []FieldMatch    // output fields, in file order
	Tags     []string        // the alert carries every one of these tags
	Min      int
	Max      *int // nil = no upper bound
	Line     int
	Column   int
}

// FieldMatch matches one output field (e.g. proc.name, container.name).
type FieldMatch struct {
	Field string
	TextMatch
	Line, Column int // position of the field's key
}

// MatchKind says how a TextMatch compares.
type MatchKind string

// Kinds of text match. A plain YAML scalar means Equals for fields and
// Contains for output.
const (
	Equals   MatchKind = "equals"
	Contains MatchKind = "contains"
	Regex    MatchKind = "regex"
)

// TextMatch compares a string: equal to, containing, or matching a regular
// expression (RE2, unanchored).
type TextMatch struct {
	Kind  MatchKind
	Value string
	Re    *regexp.Regexp // compiled when Kind is Regex
}
