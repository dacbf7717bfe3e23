package yamlsyntax

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestLocate decodes copies of the shipped rules and scenario files, each broken on one
// known line, and checks that the error lands on that line. The raw yaml.v3 line is shown
// for the record: it is one early, or the start of the enclosing collection.
func TestLocate(t *testing.T) {
	for _, tc := range []struct {
		file    string
		line    int
		problem string
	}{
		{"rules-unclosed-flow-list.yaml", 60, "did not find expected ',' or ']'"},
		{"rules-misindented-key.yaml", 59, "did not find expected '-' indicator"},
		{"macros-stray-item.yaml", 73, "did not find expected key"},
		{"scenario-misindented-steps.yaml", 74, "did not find expected '-' indicator"},
		{"scenario-unclosed-flow-map.yaml", 47, "did not find expected ',' or '}'"},
		{"scenario-colon-in-value.yaml", 51, "mapping values are not allowed in this context"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			derr := decodeAll(data)
			if derr == nil {
				t.Fatal("the broken file decoded")
			}
			line, problem := Locate(data, derr)
			if line != tc.line || problem != tc.problem {
				t.Errorf("Locate = line %d %q, want line %d %q (yaml.v3 said %q)", line, problem, tc.line, tc.problem, derr)
			}
		})
	}
}

func TestLocateWithoutLine(t *testing.T) {
	data := []byte("a: *nowhere\n")
	err := decodeAll(data)
	if err == nil {
		t.Fatal("an unknown alias decoded")
	}
	if line, problem := Locate(data, err); line != 0 || problem != "unknown anchor 'nowhere' referenced" {
		t.Errorf("Locate = %d %q, want 0 and the problem without its yaml: prefix", line, problem)
	}
	if line, problem := Locate(nil, errors.New("yaml: line 3: did not find expected key")); line != 4 || problem != "did not find expected key" {
		t.Errorf("Locate with no text to search = %d %q, want the collection's line (4)", line, problem)
	}
}

func TestLocateAtEndOfInput(t *testing.T) {
	data := []byte("technique: T1490\ntactic: impact\nscenarios:\n  - id: a\n    steps: [\n\n")
	err := decodeAll(data)
	if err == nil {
		t.Fatal("an unclosed list decoded")
	}
	if line, _ := Locate(data, err); line != 5 {
		t.Errorf("Locate = line %d, want 5, the unclosed list's line (yaml.v3 said %q)", line, err)
	}
}
