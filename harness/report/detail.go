package report

import (
	"fmt"

	"github.com/attack-replay/attack-replay/harness/alert"
	"github.com/attack-replay/attack-replay/harness/verdict"
)

// Bounds of the failure detail shown in report.md and report.html; the
// whole record is in report.json.
const (
	maxListed = 10  // alerts, near misses, forbidden hits per scenario
	maxSteps  = 20  // steps per scenario
	maxText   = 160 // runes of one output line, command or reason
)

// detail is what a person needs to see about a scenario that did not pass,
// taken from its decisive attempt and bounded. Markdown and HTML render the
// same detail.
type detail struct {
	Where       string // file:line
	Attempts    string // "attempt 2 of 3 (pass, fail, pass)" when there were several
	Reason      string
	Description string
	HasAttempt  bool

	Expectations  []expectLine
	Forbidden     []forbidLine
	ForbiddenMore int
	Fired         []firedLine
	FiredMore     int
	AllAlerts     int // alerts of the attempt in every phase
	NearMisses    []nearLine
	NearMore      int
	Steps         []stepLine
	StepsMore     int
	Notes         []string // what the victim could not be given
}

type expectLine struct {
	OK      bool
	Matcher string
	Why     string // "2 matched" or the problem
}

type forbidLine struct {
	Matcher string
	Count   int
}

type firedLine struct {
	Rule     string
	Priority string
	Step     int
	Output   string
}

type nearLine struct {
	Rule    string
	Cmdline string
	Field   string
	Want    string
	Got     string
}

type stepLine struct {
	Phase string
	Index int
	Run   string
	Exit  int
	Time  string
	Note  string
}

// firedCount is how many alerts the steps raised, shown or not.
func (d detail) firedCount() int { return len(d.Fired) + d.FiredMore }

func failureDetail(s *Scenario) detail {
	d := detail{Reason: truncate(s.Reason, maxText), Description: truncate(s.Description, maxText)}
	if s.File != "" {
		d.Where = location(s.File, s.Line)
	}
	a, ok := s.Decisive()
	if !ok {
		return d
	}
	d.HasAttempt = true
	d.Attempts = attemptsLine(*s, a)
	d.AllAlerts = len(a.Alerts)
	for _, e := range a.Expectations {
		line := expectLine{OK: e.OK, Matcher: e.Matcher.String(), Why: fmt.Sprintf("%d matched", e.Count)}
		if !e.OK {
			line.Why = e.Problem
		}
		d.Expectations = append(d.Expectations, line)
	}
	d.Forbidden, d.ForbiddenMore = capped(a.Forbidden, maxListed, func(f ForbiddenHit) forbidLine {
		return forbidLine{Matcher: f.hitString(), Count: len(f.Matched)}
	})
	d.Notes = a.Notes
	d.Fired, d.FiredMore = capped(judged(a), maxListed, func(al Alert) firedLine {
		return firedLine{Rule: al.Rule, Priority: al.Priority.String(), Step: al.Step, Output: truncate(al.Output, maxText)}
	})
	d.NearMisses, d.NearMore = capped(a.NearMisses, maxListed, func(n NearMiss) nearLine {
		l := nearLine{Field: n.Field, Want: n.Want, Got: truncate(n.Got, maxText)}
		if n.Missing {
			l.Got = "no such field"
		}
		if n.Alert >= 0 && n.Alert < len(a.Alerts) {
			al := a.Alerts[n.Alert]
			l.Rule = al.Rule
			l.Cmdline = truncate(al.Fields["proc.cmdline"], maxText)
		}
		return l
	})
	d.Steps, d.StepsMore = capped(a.Steps, maxSteps, func(st Step) stepLine {
		return stepLine{Phase: string(st.Phase), Index: st.Index, Run: truncate(st.Command(), maxText), Exit: st.ExitCode,
			Time: formatDuration(st.Duration), Note: truncate(stepNote(st), maxText)}
	})
	return d
}

// capped converts at most n items and says how many were left out.
func capped[T, U any](items []T, n int, f func(T) U) ([]U, int) {
	var out []U
	for i, it := range items {
		if i == n {
			return out, len(items) - n
		}
		out = append(out, f(it))
	}
	return out, 0
}

// judged are the alerts of the steps phase, without the barrier: the only
// ones the verdict weighs.
func judged(a Attempt) []Alert {
	var out []Alert
	for _, al := range a.Alerts {
		if al.Phase == alert.PhaseSteps && al.Rule != alert.BarrierRule {
			out = append(out, al)
		}
	}
	return out
}

// notPassing are the scenarios a person must look at, in technique order:
// those that ran and did not pass (skipped ones are listed on their own).
func (r *Report) notPassing() []scenarioRef {
	return r.scenariosWhere(func(s *Scenario) bool { return s.Outcome != verdict.Pass && s.Outcome != verdict.Skip })
}

// skipped are the scenarios that were not run, in technique order.
func (r *Report) skipped() []scenarioRef {
	return r.scenariosWhere(func(s *Scenario) bool { return s.Outcome == verdict.Skip })
}

func (r *Report) scenariosWhere(keep func(*Scenario) bool) []scenarioRef {
	var out []scenarioRef
	for ti := range r.Techniques {
		t := &r.Techniques[ti]
		for si := range t.Scenarios {
			if keep(&t.Scenarios[si]) {
				out = append(out, scenarioRef{t, &t.Scenarios[si]})
			}
		}
	}
	return out
}

type scenarioRef struct {
	T *Technique
	S *Scenario
}
