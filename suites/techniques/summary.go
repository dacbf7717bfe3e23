package techniques

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/attack-replay/attack-replay/harness/report"
)

// WriteTable prints the end-of-run table, one line per technique and a
// totals line, from the run's report: the counts and the median latency
// (step start to alert received, report.md's p50) are the report's own, so
// the console and report.md never disagree.
func WriteTable(w io.Writer, rep *report.Report) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "TECHNIQUE\tTACTIC\tSCENARIOS\tPASSED\tFAILED\tERRORS\tINCONCLUSIVE\tSKIPPED\tFLAKY\tMEDIAN LATENCY\t")
	for _, t := range rep.Techniques {
		c := t.Counts
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t\n", t.ID, t.Tactic,
			c.Scenarios, c.Pass, c.Fail, c.Error, c.Inconclusive, c.Skip, c.Flaky, formatLatency(t.Latency))
	}
	c := rep.Summary.Counts
	fmt.Fprintf(tw, "total\t\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\t\n", c.Scenarios, c.Pass, c.Fail, c.Error, c.Inconclusive, c.Skip, c.Flaky)
	return tw.Flush()
}

func formatLatency(l report.Latency) string {
	if l.Count == 0 {
		return "-"
	}
	return l.P50.Round(100 * time.Microsecond).String()
}
