package rules

import (
	"os"
	"testing"
)

// FuzzParse feeds arbitrary bytes to the rules reader as one file. It must
// never panic, and every problem must be placed in that file.
func FuzzParse(f *testing.F) {
	for _, p := range []string{sampleHTTP, sampleGRPC, sampleValidate + "bad_syntax.yaml", sampleValidate + "unknown_key.yaml"} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("- rule: R\n  desc: d\n  condition: c\n  output: o\n  priority: INFO\n- rule: R\n  exceptions: [{name: e, values: [[a]]}]\n  override: {exceptions: append}\n"))
	f.Add([]byte("- &a\n  list: l\n  items: [*a]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		l := &loader{idx: newIndex(), file: "f.yaml"}
		l.parse(data)
		l.idx.computeHashes()
		for _, p := range append(l.problems, l.idx.warnings...) {
			if p.Pos.File != "f.yaml" || p.Msg == "" {
				t.Fatalf("badly placed problem: %+v", p)
			}
		}
	})
}
