package report

import (
	"cmp"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/attack-replay/attack-replay/harness/attack"
	"github.com/attack-replay/attack-replay/harness/scenario"
	"github.com/attack-replay/attack-replay/harness/verdict"
)

// Run is what a finished run hands to Build.
type Run struct {
	Meta    Meta
	Results []verdict.Result
	// Scenarios are every loaded scenario, run or not: they give names and
	// descriptions to results, and the coverage counts them all.
	Scenarios []*scenario.Scenario
	// Rules are every rule loaded beside the barrier rule (see Rule.Candidate).
	Rules []Rule
}

// Build groups the results per technique and computes counts, latency
// percentiles and coverage. Results of scenarios missing from run.Scenarios
// still appear, named from their verdicts: a report written at the end of a
// run must never lose a result.
func Build(run Run) *Report {
	byID := make(map[string]*scenario.Scenario, len(run.Scenarios))
	for _, sc := range run.Scenarios {
		byID[sc.ID] = sc
	}
	type key struct{ id, tactic string }
	groups := map[key]*Technique{}
	for _, res := range run.Results {
		s := buildScenario(res, byID[res.ScenarioID])
		k := key{}
		name := ""
		if sc := byID[res.ScenarioID]; sc != nil {
			k = key{string(sc.Technique), string(sc.Tactic)}
			name = sc.TechniqueName
		} else if len(res.Attempts) > 0 {
			k = key{res.Attempts[0].Technique, res.Attempts[0].Tactic}
		}
		t := groups[k]
		if t == nil {
			if tech, ok := attack.Lookup(attack.TechniqueID(k.id)); ok && name == "" {
				name = tech.Name
			}
			t = &Technique{ID: k.id, Tactic: k.tactic, Name: name}
			groups[k] = t
		}
		t.Scenarios = append(t.Scenarios, s)
	}

	rep := &Report{Schema: Schema, Meta: run.Meta, Rules: slices.Clone(run.Rules)}
	if rep.Meta.AttackRelease == "" {
		rep.Meta.AttackRelease = attack.Release()
	}
	rep.Meta.Start, rep.Meta.End = utc(rep.Meta.Start), utc(rep.Meta.End)
	var attemptDrops int64
	for _, k := range slices.SortedFunc(maps.Keys(groups), func(a, b key) int {
		return cmp.Or(cmp.Compare(a.id, b.id), cmp.Compare(a.tactic, b.tactic))
	}) {
		t := groups[k]
		slices.SortFunc(t.Scenarios, func(a, b Scenario) int {
			return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.ID, b.ID))
		})
		var lat []time.Duration
		for _, s := range t.Scenarios {
			t.Counts.add(s.Outcome, s.Flaky)
			rep.Summary.Counts.add(s.Outcome, s.Flaky)
			lat = append(lat, latencies(s)...)
			for _, a := range s.Attempts {
				attemptDrops += a.Drops
			}
		}
		t.Latency = summarise(lat)
		rep.Techniques = append(rep.Techniques, *t)
	}
	rep.Summary.Techniques = len(rep.Techniques)
	rep.Summary.Drops = max(run.Meta.Drops, attemptDrops)
	rep.Summary.Trustworthy = rep.Summary.Drops == 0
	slices.SortFunc(rep.Rules, func(a, b Rule) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Name, b.Name))
	})
	if len(run.Rules) > 0 || len(run.Scenarios) > 0 {
		c := Coverage(run.Rules, run.Scenarios)
		rep.Coverage = &c
	}
	return rep
}

func buildScenario(res verdict.Result, sc *scenario.Scenario) Scenario {
	s := Scenario{ID: res.ScenarioID, Outcome: res.Outcome, Flaky: res.Flaky}
	if sc != nil {
		s.Description, s.File, s.Line, s.Benign = sc.Description, sc.File, sc.Line, sc.Benign
		s.Expect = matchers(sc.Expect)
		s.Forbid = matchers(sc.Forbid)
		if res.Outcome == verdict.Skip {
			s.Skip = sc.Skip
		}
	} else if len(res.Attempts) > 0 {
		v := res.Attempts[0]
		s.File, s.Line, s.Benign = v.File, v.Line, v.Benign
	}
	for _, v := range res.Attempts {
		s.Attempts = append(s.Attempts, buildAttempt(v))
	}
	if a, ok := s.Decisive(); ok {
		s.Reason = a.Reason
	}
	s.Latency = summarise(latencies(s))
	return s
}

func buildAttempt(v verdict.Verdict) Attempt {
	a := Attempt{
		Attempt:  v.Attempt,
		Outcome:  v.Outcome,
		Reason:   v.Reason,
		Judged:   v.Judged,
		Drops:    v.Drops,
		VictimID: v.VictimID,
		Notes:    slices.Clone(v.Notes),
		Timings: Timings{
			Start:        utc(v.Timings.Start),
			VictimStart:  v.Timings.VictimStart,
			Setup:        v.Timings.Setup,
			Steps:        v.Timings.Steps,
			Barrier:      v.Timings.Barrier,
			Cleanup:      v.Timings.Cleanup,
			VictimRemove: v.Timings.VictimRemove,
			Total:        v.Timings.Total,
		},
	}
	for _, e := range v.Expectations {
		a.Expectations = append(a.Expectations, Expectation{
			Matcher: matcher(e.Matcher), Count: e.Count, Matched: slices.Clone(e.Matched), OK: e.OK, Problem: e.Problem,
		})
	}
	for _, f := range v.Forbidden {
		a.Forbidden = append(a.Forbidden, ForbiddenHit{Matcher: matcher(f.Matcher), Matched: slices.Clone(f.Matched), Others: f.Others})
	}
	for _, n := range v.NearMisses {
		a.NearMisses = append(a.NearMisses, NearMiss(n))
	}
	for _, al := range v.Alerts {
		a.Alerts = append(a.Alerts, Alert{
			Time:       utc(al.Time),
			Rule:       al.Rule,
			Priority:   al.Priority,
			Source:     al.Source,
			Output:     al.Output,
			Fields:     maps.Clone(al.Fields),
			Tags:       slices.Clone(al.Tags),
			Hostname:   al.Hostname,
			ReceivedAt: utc(al.ReceivedAt),
			Transport:  al.Transport,
			Phase:      al.Phase,
			Step:       al.Step,
			ByID:       al.ByID,
		})
	}
	for _, st := range v.Steps {
		a.Steps = append(a.Steps, Step{
			Phase: st.Phase, Index: st.Index, Run: st.Run, Argv: slices.Clone(st.Argv), Sleep: st.Sleep, TTY: st.TTY,
			ExpectExit: slices.Clone(st.ExpectExit), User: st.User, ExitCode: st.ExitCode,
			Stdout: st.Stdout, Stderr: st.Stderr, Start: utc(st.Start), Duration: st.Duration,
			TimedOut: st.TimedOut, Err: st.Err,
		})
	}
	for _, l := range v.Latencies {
		a.Latencies = append(a.Latencies, AlertLatency(l))
	}
	return a
}

func matchers(ms []scenario.Matcher) []Matcher {
	var out []Matcher
	for _, m := range ms {
		out = append(out, matcher(m))
	}
	return out
}

func matcher(m scenario.Matcher) Matcher {
	out := Matcher{Rule: m.Rule, Tags: slices.Clone(m.Tags), Min: m.Min, Line: m.Line}
	if m.Priority != nil {
		p := *m.Priority
		out.Priority = &p
	}
	if m.Max != nil {
		n := *m.Max
		out.Max = &n
	}
	if m.Output != nil {
		out.Output = &TextMatch{Kind: m.Output.Kind, Value: m.Output.Value}
	}
	for _, f := range m.Fields {
		out.Fields = append(out.Fields, FieldMatch{Field: f.Field, TextMatch: TextMatch{Kind: f.Kind, Value: f.Value}})
	}
	return out
}

// latencies are the end-to-end latencies of every attempt of s.
func latencies(s Scenario) []time.Duration {
	var out []time.Duration
	for _, a := range s.Attempts {
		for _, l := range a.Latencies {
			out = append(out, l.Total())
		}
	}
	return out
}

func summarise(ds []time.Duration) Latency {
	if len(ds) == 0 {
		return Latency{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return Latency{Count: len(s), P50: percentile(s, 50), P95: percentile(s, 95)}
}

// percentile of sorted values by the nearest-rank method: always one of the
// measured values, so a p95 over three samples is the slowest of them.
func percentile(sorted []time.Duration, p float64) time.Duration {
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[max(rank, 1)-1]
}

// utc drops the location and the monotonic reading, so a report read back
// from JSON equals the one written.
func utc(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Round(0)
}
