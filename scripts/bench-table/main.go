package main

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

func main() {
	tables, err := parse(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench-table:", err)
		os.Exit(1)
	}
	if len(tables) == 0 {
		fmt.Fprintln(os.Stderr, "bench-table: no benchmark lines on stdin: pipe the output of `go test -bench` into it")
		os.Exit(1)
	}
	write(os.Stdout, tables)
}

// table is one top-level benchmark: its sub-benchmarks (rows), its metrics (columns) and
// every value seen, by row and metric.
type table struct {
	pkg     string
	name    string
	rows    []string
	units   []string
	samples map[string]map[string][]float64
}

// procSuffix is the GOMAXPROCS suffix the testing package appends to a benchmark's name.
var procSuffix = regexp.MustCompile(`-\d+$`)

// parse reads benchmark result lines ("BenchmarkX/y-2  1  123 ns/op  0.4 s/scenario") and
// remembers the package of each ("pkg: ..." lines). Other lines are ignored: the output also
// holds logs, PASS and ok lines.
func parse(r io.Reader) ([]*table, error) {
	var tables []*table
	byName := map[string]*table{}
	pkg := ""
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if p, ok := strings.CutPrefix(text, "pkg: "); ok {
			pkg = strings.TrimSpace(p)
			continue
		}
		f := strings.Fields(text)
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") || len(f)%2 != 0 {
			continue
		}
		if _, err := strconv.Atoi(f[1]); err != nil {
			continue // a log line that starts with a benchmark's name
		}
		full := procSuffix.ReplaceAllString(f[0], "")
		top, sub, _ := strings.Cut(full, "/")
		key := pkg + " " + top
		t := byName[key]
		if t == nil {
			t = &table{pkg: pkg, name: top, samples: map[string]map[string][]float64{}}
			byName[key] = t
			tables = append(tables, t)
		}
		if sub == "" {
			sub = "-"
		}
		if t.samples[sub] == nil {
			t.samples[sub] = map[string][]float64{}
			t.rows = append(t.rows, sub)
		}
		for i := 2; i < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("stdin:%d: metric %q of %s: %q is not a number", line, f[i+1], f[0], f[i])
			}
			unit := f[i+1]
			if !slices.Contains(t.units, unit) {
				t.units = append(t.units, unit)
			}
			t.samples[sub][unit] = append(t.samples[sub][unit], v)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read stdin: %w", err)
	}
	return tables, nil
}

// columnOrder puts the metrics the harness's benchmarks report in the order a reader wants
// them: wall time first, then the phases of an attempt in the order they run, then the
// machine's share; others follow in the order they were seen, ns/op and memory last.
var columnOrder = []string{"s/run", "s/scenario", "speedup", "create-ms", "start-ms", "exec-ms", "marker-ms",
	"barrier-ms", "verdict-ms", "remove-ms", "total-ms", "cpu-s/scenario", "cpu-busy"}

func rank(unit string) int {
	if i := slices.Index(columnOrder, unit); i >= 0 {
		return i
	}
	switch unit {
	case "ns/op", "B/op", "allocs/op":
		return len(columnOrder) + 2
	}
	return len(columnOrder) + 1
}

// write prints each table in Markdown.
func write(w io.Writer, tables []*table) {
	for _, t := range tables {
		slices.SortStableFunc(t.units, func(a, b string) int { return rank(a) - rank(b) })
	}
	for i, t := range tables {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "%s (%s)\n\n", t.name, t.pkg)
		fmt.Fprintf(w, "| %s | %s |\n", t.name, strings.Join(t.units, " | "))
		fmt.Fprintf(w, "|---%s|\n", strings.Repeat("|---:", len(t.units)))
		for _, row := range t.rows {
			cells := make([]string, len(t.units))
			for j, u := range t.units {
				cells[j] = cell(t.samples[row][u])
			}
			fmt.Fprintf(w, "| %s | %s |\n", row, strings.Join(cells, " | "))
		}
	}
}

// cell is the median of vs, with the range when there are several.
func cell(vs []float64) string {
	if len(vs) == 0 {
		return ""
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	if len(s) == 1 {
		return num(med)
	}
	return fmt.Sprintf("%s (%s–%s)", num(med), num(s[0]), num(s[len(s)-1]))
}

// num prints a value with three significant digits, whole numbers from 1000 on (ns/op would
// otherwise print with an exponent).
func num(v float64) string {
	if math.Abs(v) >= 1000 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}
