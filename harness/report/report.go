package report

import (
	"time"

	"github.com/attack-replay/attack-replay/harness/alert"
	"github.com/attack-replay/attack-replay/harness/rules"
	"github.com/attack-replay/attack-replay/harness/scenario"
	"github.com/attack-replay/attack-replay/harness/verdict"
)

// Schema names the report.json format. Additive changes keep it; a change
// that alters the meaning of an existing field bumps it, and Load refuses
// reports of another schema rather than misread them.
const Schema = "attack-replay/report/v1"

// File names written by WriteDir.
const (
	JSONFile      = "report.json"
	MarkdownFile  = "report.md"
	HTMLFile      = "report.html"
	NavigatorFile = "navigator-layer.json"
)

// Report is the whole record of one run: what ran where, and every verdict
// grouped per technique. Durations are integer nanoseconds in JSON (fields
// named *_ns), times RFC 3339 in UTC.
type Report struct {
	Schema     string      `json:"schema"`
	Meta       Meta        `json:"meta"`
	Summary    Summary     `json:"summary"`
	Techniques []Technique `json:"techniques"`
	// Rules are every rule loaded beside the harness's barrier rule, candidate
	// or not, with a content hash so a diff sees which ones a change touched.
	Rules    []Rule          `json:"rules,omitempty"`
	Coverage *CoverageReport `json:"coverage,omitempty"`
}

// Meta says what the run was made of; it is filled by the caller.
type Meta struct {
	Tool          Tool       `json:"tool"`
	Falco         Falco      `json:"falco"`
	VictimImage   string     `json:"victim_image,omitempty"`
	AttackRelease string     `json:"attack_release,omitempty"` // ATT&CK release of the technique table
	RulesFiles    []FileHash `json:"rules_files,omitempty"`    // in the order Falco loaded them
	Start         time.Time  `json:"start"`
	End           time.Time  `json:"end"`
	// Drops counts the syscall events Falco reported dropped over the whole
	// run; any drop makes missing alerts meaningless (see Summary.Trustworthy).
	Drops int64 `json:"drops"`
	// HostAlerts counts alerts that belonged to no scenario (host noise).
	HostAlerts  int    `json:"host_alerts"`
	Repeat      int    `json:"repeat,omitempty"`       // attempts per scenario
	LabelFilter string `json:"label_filter,omitempty"` // Ginkgo label filter of a partial run
	// RunErrors are what went wrong with the run as a whole, each as the
	// harness said it: Falco rejected the rules or died, scenarios did not
	// finish, victims could not be removed. A run that never started has
	// its reason here and no scenarios. Empty for a clean run.
	RunErrors []string `json:"run_errors,omitempty"`
}

// Tool identifies the attack-replay build that wrote the report.
type Tool struct {
	Version string `json:"version,omitempty"`
	Commit  string `json:"commit,omitempty"`
}

// Falco describes the Falco the run used.
type Falco struct {
	Version   string `json:"version,omitempty"`
	Image     string `json:"image,omitempty"`
	Engine    string `json:"engine,omitempty"`    // "modern_ebpf"
	Transport string `json:"transport,omitempty"` // "grpc" or "http"
}

// FileHash is a rules file and the SHA-256 of its content, hex-encoded.
type FileHash struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
}

// Summary counts scenarios over the whole run.
type Summary struct {
	Techniques int `json:"techniques"`
	Counts
	// Trustworthy is false when Falco dropped events during the run or any
	// attempt: then a missing alert proves nothing.
	Trustworthy bool `json:"trustworthy"`
	// Drops is the larger of the run-wide drops and the sum over attempts.
	Drops int64 `json:"drops"`
}

// Counts are scenario outcomes. Flaky counts scenarios whose attempts
// disagreed; each of them is also counted under its worst outcome.
type Counts struct {
	Scenarios    int `json:"scenarios"`
	Pass         int `json:"pass"`
	Fail         int `json:"fail"`
	Error        int `json:"error"`
	Inconclusive int `json:"inconclusive"`
	Flaky        int `json:"flaky"`
}

func (c *Counts) add(o verdict.Outcome, flaky bool) {
	c.Scenarios++
	switch o {
	case verdict.Pass:
		c.Pass++
	case verdict.Fail:
		c.Fail++
	case verdict.Error:
		c.Error++
	case verdict.Inconclusive:
		c.Inconclusive++
	}
	if flaky {
		c.Flaky++
	}
}

// Technique groups the scenarios of one ATT&CK technique under one tactic.
type Technique struct {
	ID        string     `json:"id"`
	Name      string     `json:"name,omitempty"`
	Tactic    string     `json:"tactic,omitempty"`
	Counts    Counts     `json:"counts"`
	Latency   Latency    `json:"latency"`
	Scenarios []Scenario `json:"scenarios"`
}

// Latency summarises alert latencies: step start to the harness receiving
// the alert (Falco's detection plus delivery), over every matched expected
// alert of every attempt. Zero Count means no expected alert matched.
type Latency struct {
	Count int           `json:"count"`
	P50   time.Duration `json:"p50_ns"`
	P95   time.Duration `json:"p95_ns"`
}

// Scenario is one scenario's result over all its attempts.
type Scenario struct {
	ID          string          `json:"id"`
	Description string          `json:"description,omitempty"`
	File        string          `json:"file,omitempty"`
	Line        int             `json:"line,omitempty"`
	Benign      bool            `json:"benign,omitempty"`
	Outcome     verdict.Outcome `json:"outcome"`
	Flaky       bool            `json:"flaky,omitempty"`
	Reason      string          `json:"reason,omitempty"` // of the first attempt with Outcome
	Latency     Latency         `json:"latency"`
	Expect      []Matcher       `json:"expect,omitempty"` // as the scenario file says
	Forbid      []Matcher       `json:"forbid,omitempty"`
	Attempts    []Attempt       `json:"attempts"`
}

// Status is what a person is told first: "flaky" for a scenario whose
// attempts disagreed, else its outcome.
func (s Scenario) Status() string {
	if s.Flaky {
		return "flaky"
	}
	return string(s.Outcome)
}

// Decisive is the attempt that gave the scenario its outcome: the first
// whose outcome is the scenario's.
func (s Scenario) Decisive() (Attempt, bool) {
	for _, a := range s.Attempts {
		if a.Outcome == s.Outcome {
			return a, true
		}
	}
	return Attempt{}, false
}

// Attempt is one judged run of a scenario (see verdict.Verdict).
type Attempt struct {
	Attempt      int             `json:"attempt"`
	Outcome      verdict.Outcome `json:"outcome"`
	Reason       string          `json:"reason,omitempty"`
	Expectations []Expectation   `json:"expectations,omitempty"`
	Forbidden    []ForbiddenHit  `json:"forbidden,omitempty"`
	NearMisses   []NearMiss      `json:"near_misses,omitempty"`
	Alerts       []Alert         `json:"alerts,omitempty"`
	// Judged is how many of Alerts had arrived when the verdict was made;
	// later ones (cleanup, stragglers) are listed, never judged.
	Judged    int            `json:"judged"`
	Steps     []Step         `json:"steps,omitempty"`
	Latencies []AlertLatency `json:"latencies,omitempty"`
	Timings   Timings        `json:"timings"`
	Drops     int64          `json:"drops,omitempty"`
	VictimID  string         `json:"victim_id,omitempty"`
}

// Matcher is an expect or forbid entry of a scenario.
type Matcher struct {
	Rule     string          `json:"rule"`
	Priority *rules.Priority `json:"priority,omitempty"`
	Output   *TextMatch      `json:"output,omitempty"`
	Fields   []FieldMatch    `json:"fields,omitempty"`
	Tags     []string        `json:"tags,omitempty"`
	Min      int             `json:"min,omitempty"`
	Max      *int            `json:"max,omitempty"`
	Line     int             `json:"line,omitempty"`
}

// TextMatch is how a matcher compares a string.
type TextMatch struct {
	Kind  scenario.MatchKind `json:"kind"`
	Value string             `json:"value"`
}

// FieldMatch compares one output field.
type FieldMatch struct {
	Field string `json:"field"`
	TextMatch
}

// Expectation is how one expect matcher fared in an attempt.
type Expectation struct {
	Matcher Matcher `json:"matcher"`
	Count   int     `json:"count"`
	Matched []int   `json:"matched,omitempty"` // indexes into Attempt.Alerts
	OK      bool    `json:"ok"`
	Problem string  `json:"problem,omitempty"`
}

// ForbiddenHit is a forbid matcher that matched alerts.
type ForbiddenHit struct {
	Matcher Matcher `json:"matcher"`
	Matched []int   `json:"matched"` // indexes into Attempt.Alerts
}

// NearMiss is an alert of an expected rule that differed in one criterion.
type NearMiss struct {
	Expectation int    `json:"expectation"` // index into Attempt.Expectations
	Alert       int    `json:"alert"`       // index into Attempt.Alerts
	Field       string `json:"field"`
	Want        string `json:"want"`
	Got         string `json:"got"`
	Missing     bool   `json:"missing,omitempty"` // the alert has no such field
}

// Alert is one Falco alert of the attempt, with the phase and step that
// caused it.
type Alert struct {
	Time       time.Time         `json:"time"`
	Rule       string            `json:"rule"`
	Priority   rules.Priority    `json:"priority"`
	Source     string            `json:"source,omitempty"`
	Output     string            `json:"output"`
	Fields     map[string]string `json:"fields,omitempty"`
	Tags       []string          `json:"tags,omitempty"`
	Hostname   string            `json:"hostname,omitempty"`
	ReceivedAt time.Time         `json:"received_at"`
	Transport  string            `json:"transport,omitempty"`
	Phase      alert.Phase       `json:"phase,omitempty"`
	Step       int               `json:"step,omitempty"`
	ByID       bool              `json:"by_id,omitempty"`
}

// Step is what one exec did.
type Step struct {
	Phase    alert.Phase   `json:"phase"`
	Index    int           `json:"index"`
	Run      string        `json:"run"`
	User     string        `json:"user,omitempty"`
	ExitCode int           `json:"exit_code"`
	Stdout   string        `json:"stdout,omitempty"`
	Stderr   string        `json:"stderr,omitempty"`
	Start    time.Time     `json:"start"`
	Duration time.Duration `json:"duration_ns"`
	TimedOut bool          `json:"timed_out,omitempty"`
	Err      string        `json:"error,omitempty"`
}

// AlertLatency is the latency of one matched expected alert.
type AlertLatency struct {
	Rule      string        `json:"rule"`
	Step      int           `json:"step,omitempty"`
	Detection time.Duration `json:"detection_ns"` // step start to Falco's event time
	Delivery  time.Duration `json:"delivery_ns"`  // event time to received by the harness
}

// Total is step start to the harness receiving the alert.
func (l AlertLatency) Total() time.Duration { return l.Detection + l.Delivery }

// Timings of the phases of an attempt.
type Timings struct {
	Start        time.Time     `json:"start"`
	VictimStart  time.Duration `json:"victim_start_ns"`
	Setup        time.Duration `json:"setup_ns"`
	Steps        time.Duration `json:"steps_ns"`
	Barrier      time.Duration `json:"barrier_ns"`
	Cleanup      time.Duration `json:"cleanup_ns"`
	VictimRemove time.Duration `json:"victim_remove_ns"`
	Total        time.Duration `json:"total_ns"`
}

// Rule is one loaded Falco rule.
type Rule struct {
	Name     string         `json:"name"`
	Priority rules.Priority `json:"priority"`
	Tags     []string       `json:"tags,omitempty"`
	File     string         `json:"file"`
	Line     int            `json:"line,omitempty"`
	// Hash is a digest of the rule's own definition (condition, output,
	// priority, tags, enabled…): it changes when the rule does, not when its
	// neighbours do.
	Hash string `json:"hash,omitempty"`
	// Candidate marks a rule of the rules under test (the RULES paths);
	// false for rules loaded only for their macros, lists and names, such as
	// the Falco image's own falco_rules.yaml.
	Candidate bool `json:"candidate"`
	Enabled   bool `json:"enabled"`
}

// underTest reports whether coverage measures the rule: a candidate Falco
// will run. A disabled candidate raises nothing a scenario could expect.
func (r Rule) underTest() bool { return r.Candidate && r.Enabled }
