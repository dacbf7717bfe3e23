package scenario

import (
	"regexp"
	"time"

	"github.com/attack-replay/attack-replay/harness/attack"
	"github.com/attack-replay/attack-replay/harness/rules"
)

// Defaults applied by the loader where a scenario or step says nothing.
const (
	DefaultScenarioTimeout = 2 * time.Minute
	DefaultStepTimeout     = 30 * time.Second
)

// AnyRule in a matcher's rule means "any candidate rule" (never the
// harness's own barrier rule, never rules loaded only for their macros).
const AnyRule = "*"

// File is one technique file: scenarios/<tactic>/<technique>.yaml.
type File struct {
	Path      string // as loaded, relative to the FS root
	Technique attack.TechniqueID
	Tactic    attack.Tactic
	Name      string
	Scenarios []*Scenario
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

	// Set by the loader.
	File          string // path of the technique file
	Line, Column  int    // position of the scenario in File
	Technique     attack.TechniqueID
	Tactic        attack.Tactic
	TechniqueName string
}

// Step is one shell command run with /bin/sh -c inside the victim.
type Step struct {
	Run         string
	Timeout     time.Duration // the process is killed when it runs longer
	MustSucceed bool          // a non-zero exit fails the scenario (setup steps always must succeed)
	User        string        // overrides the scenario's user for this step
	Line        int
	Column      int
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
