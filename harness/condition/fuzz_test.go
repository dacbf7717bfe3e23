package condition

import (
	"os"
	"path/filepath"
	"testing"

	"gopkg.in/yaml.v3"
)

// FuzzParse: Parse never panics; what it parses prints without error, and
// the print parses back to an Equal tree that prints the same again.
func FuzzParse(f *testing.F) {
	for _, s := range seedConditions(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		if _, err := Parse(src); err != nil {
			if _, ok := err.(*SyntaxError); !ok {
				t.Fatalf("Parse(%q) error %T, want *SyntaxError", src, err)
			}
			return
		}
		e, _ := roundTrip(t, src)
		Walk(e, func(n Node) bool {
			if s := n.Source(); s.Pos < 0 || s.End > len(src) || s.Pos > s.End {
				t.Fatalf("%T spans [%d, %d) of %d bytes", n, s.Pos, s.End, len(src))
			}
			return true
		})
	})
}

// seedConditions are the conditions of the upstream rules files, and a
// few that reach the parser's corners.
func seedConditions(tb testing.TB) []string {
	seeds := []string{
		`a and (b or not c) and not(d)`,
		`not not a or ((b))`,
		`proc.name in (bash, "a b", 'c\'d', list_name) and proc.pname in shells`,
		`proc.aname[2] startswith "sh" and proc.env["A B"] exists and fd.types[0] = file`,
		`tolower(basename(proc.exepath)) = val(proc.pname) and len(proc.args) >= 0x10`,
		`join((proc.name, "-", 1), ";") contains x and proc.name startswith anyof (a, b)`,
		`evt.dir=< and evt.rawres<-1.5e+3 and fd.name = "C:\\dir\ "`,
		`proc.name inside`,
		"a\tand\nb\band\rc",
		`(not)`,
	}
	files, _ := filepath.Glob("../../fixtures/upstream-rules/falco-rules-5.0.0/*.yaml")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		var items []struct {
			Condition string `yaml:"condition"`
		}
		if err := yaml.Unmarshal(b, &items); err != nil {
			tb.Fatal(err)
		}
		for _, it := range items {
			if it.Condition != "" {
				seeds = append(seeds, it.Condition)
			}
		}
	}
	return seeds
}
