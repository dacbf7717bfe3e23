package techniques

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/attack-replay/attack-replay/harness/verdict"
)

// Row is one technique in the end-of-run table.
type Row struct {
	Technique    string
	Tactic       string
	Scenarios    int
	Passed       int
	Failed       int
	Errors       int
	Inconclusive int
	Flaky        int
	// MedianLatency is the median time from a step's start to the harness
	// receiving the expected alert it caused (detection plus delivery, as in
	// report.md), over every matched expected alert; 0 when none matched.
	MedianLatency time.Duration
}

// Summarise groups results per technique, in technique order.
func Summarise(results []verdict.Result) []Row {
	rows := map[string]*Row{}
	latencies := map[string][]time.Duration{}
	for _, res := range results {
		if len(res.Attempts) == 0 {
			continue
		}
		first := res.Attempts[0]
		r := rows[first.Technique]
		if r == nil {
			r = &Row{Technique: first.Technique, Tactic: first.Tactic}
			rows[first.Technique] = r
		}
		r.Scenarios++
		switch res.Outcome {
		case verdict.Pass:
			r.Passed++
		case verdict.Fail:
			r.Failed++
		case verdict.Error:
			r.Errors++
		case verdict.Inconclusive:
			r.Inconclusive++
		}
		if res.Flaky {
			r.Flaky++
		}
		for _, a := range res.Attempts {
			for _, l := range a.Latencies {
				latencies[first.Technique] = append(latencies[first.Technique], l.Detection+l.Delivery)
			}
		}
	}
	out := make([]Row, 0, len(rows))
	for id, r := range rows {
		r.MedianLatency = median(latencies[id])
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Technique < out[j].Technique })
	return out
}

// WriteTable prints the per-technique table and a totals line.
func WriteTable(w io.Writer, rows []Row) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "TECHNIQUE\tTACTIC\tSCENARIOS\tPASSED\tFAILED\tERRORS\tINCONCLUSIVE\tFLAKY\tMEDIAN LATENCY\t")
	var total Row
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t\n", r.Technique, r.Tactic,
			r.Scenarios, r.Passed, r.Failed, r.Errors, r.Inconclusive, r.Flaky, formatLatency(r.MedianLatency))
		total.Scenarios += r.Scenarios
		total.Passed += r.Passed
		total.Failed += r.Failed
		total.Errors += r.Errors
		total.Inconclusive += r.Inconclusive
		total.Flaky += r.Flaky
	}
	fmt.Fprintf(tw, "total\t\t%d\t%d\t%d\t%d\t%d\t%d\t\t\n", total.Scenarios, total.Passed,
		total.Failed, total.Errors, total.Inconclusive, total.Flaky)
	return tw.Flush()
}

func formatLatency(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return d.Round(100 * time.Microsecond).String()
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2
	}
	return s[len(s)/2]
}
