package soak

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"
)

// table sums the runs per fault, in the order faults first ran.
type table struct {
	names []string
	rows  map[string]*row
}

type row struct {
	runs, correct, leaks, late int
	longest                    time.Duration
}

func (t *table) add(fault string, elapsed time.Duration, problems []string) {
	if t.rows == nil {
		t.rows = map[string]*row{}
	}
	r, ok := t.rows[fault]
	if !ok {
		r = &row{}
		t.rows[fault] = r
		t.names = append(t.names, fault)
	}
	r.runs++
	leaked, late := false, false
	for _, p := range problems {
		leaked = leaked || isLeak(p)
		late = late || strings.HasPrefix(p, lateRemoval)
	}
	if late {
		r.late++
	}
	if leaked {
		r.leaks++
	}
	if allLeaks(problems) {
		r.correct++
	}
	r.longest = max(r.longest, elapsed)
}

func isLeak(p string) bool {
	for _, kind := range []string{"container ", "network ", "volume ", "image ", "TMPDIR entry "} {
		if strings.HasPrefix(p, kind) {
			return true
		}
	}
	return false
}

func allLeaks(problems []string) bool {
	for _, p := range problems {
		if !isLeak(p) && !strings.HasPrefix(p, "fault: ") && !strings.HasPrefix(p, lateRemoval) {
			return false
		}
	}
	return true
}

func (t *table) String() string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "FAULT\tRUNS\tCORRECT EXITS\tLEAKS\tLATE REMOVALS\tMAX DURATION\t")
	var total row
	for _, name := range t.names {
		r := t.rows[name]
		fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%d\t%v\t\n", name, r.runs, r.correct, r.leaks, r.late, r.longest.Round(100*time.Millisecond))
		total.runs += r.runs
		total.correct += r.correct
		total.leaks += r.leaks
		total.late += r.late
		total.longest = max(total.longest, r.longest)
	}
	fmt.Fprintf(w, "total\t%d\t%d\t%d\t%d\t%v\t\n", total.runs, total.correct, total.leaks, total.late, total.longest.Round(100*time.Millisecond))
	_ = w.Flush()
	return b.String()
}
