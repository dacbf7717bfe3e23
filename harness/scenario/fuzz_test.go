package scenario

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad feeds arbitrary bytes to the loader as a technique file. It must
// never panic, and it must either load or say why, with every problem placed
// in the file.
func FuzzLoad(f *testing.F) {
	f.Add([]byte(docExample(f)))
	seeds, _ := filepath.Glob("../../scenarios/*/*.yaml")
	for _, p := range seeds {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	for _, s := range []string{
		"",
		header + "  - id: a\n    steps: [x]\n    expect: [{rule: '*', output: {regex: '('}}]\n",
		header + "  - &s\n    id: a\n    more: *s\n",
		header + "  - <<: {id: a, steps: [x]}\n    expect: [{rule: '*'}]\n",
		"a: &a [x, x]\nb: [*a, *a]\n",
		"technique: T1053\ntactic: impact\nscenarios: {}\n",
		"---\n---\n",
	} {
		f.Add([]byte(s))
	}
	idx := testRules(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		set, err := Load(mapFS(map[string]string{"scenarios/impact/T1490.yaml": string(data)}), "scenarios", Options{Rules: idx})
		if set == nil {
			t.Fatal("nil set")
		}
		if err == nil {
			return
		}
		var le *LoadError
		if !errors.As(err, &le) || len(le.Problems) == 0 {
			t.Fatalf("error without problems: %v", err)
		}
		for _, p := range le.Problems {
			if p.File != "scenarios/impact/T1490.yaml" || p.Msg == "" || p.Line < 0 || p.Warning {
				t.Fatalf("badly placed problem: %+v", p)
			}
		}
	})
}
