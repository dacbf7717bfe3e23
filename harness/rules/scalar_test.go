package rules

import (
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestScalarPositions checks, for every style of scalar, that each byte of
// the value maps to a place in the file holding that byte (bytes that came
// from an escape or a fold map to the escape or the line break).
func TestScalarPositions(t *testing.T) {
	for _, c := range []struct {
		name, yaml string
	}{
		{"plain", "k: evt.type = execve and proc.name = bash\n"},
		{"plain multi-line", "k:\n  evt.type = execve\n    and proc.name = bash\n\n  and x\n"},
		{"plain trailing blanks", "k: a  \n  b\n"},
		{"double-quoted", `k: "evt.type = execve and proc.name = \"bash\" and\tx"` + "\n"},
		{"double-quoted folded", "k: \"a and\n   b\n\n   c \\\n   d\\x41\\u00e9\"\n"},
		{"single-quoted", "k: 'proc.name = ''x'' and\n  y'\n"},
		{"literal", "k: |\n  evt.type = execve\n    and proc.name = bash\n\n  and x\n"},
		{"literal strip", "k: |-\n    a\n    b\n"},
		{"literal keep", "k: |+\n  a\n\n"},
		{"literal indicator", "- k: |2\n     a\n    b\n"},
		{"folded", "k: >\n  evt.type = execve\n  and proc.name = bash\n\n  and x\n    more\n  back\n"},
		{"folded strip", "- rule: r\n  k: >-\n    spawned_process and\n    proc.name = x\n  output: o\n"},
		{"utf-8", "k: 'é and ü'\n"},
		{"anchor", "k: &a proc.name = x\n"},
		{"tag", "k: !!str 'proc.name = x'\n"},
	} {
		var doc yaml.Node
		if err := yaml.Unmarshal([]byte(c.yaml), &doc); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		n := valueOf(&doc, "k")
		pos, ok := scalarPositions([]byte(c.yaml), n)
		if !ok {
			t.Errorf("%s: no positions for %q (style %v)", c.name, n.Value, n.Style)
			continue
		}
		if p := pos[0]; p.Line < n.Line || p.Line == n.Line && p.Column < n.Column {
			t.Errorf("%s: first byte at %d:%d, before the node at %d:%d", c.name, p.Line, p.Column, n.Line, n.Column)
		}
		if len(pos) != len(n.Value) {
			t.Fatalf("%s: %d positions for %d bytes", c.name, len(pos), len(n.Value))
		}
		lines := strings.Split(c.yaml, "\n")
		for i := 0; i < len(n.Value); i++ {
			p := pos[i]
			line := []rune(lines[p.Line-1])
			var at string
			if p.Column-1 < len(line) {
				at = string(line[p.Column-1])
			} else {
				at = "\n"
			}
			want := string(n.Value[i])
			if n.Value[i] >= 0x80 {
				continue // checked through its first byte
			}
			if at != want && !(want == " " && at == "\n") && !(want == "\n" && at == "\n") && at != `\` && at != "'" {
				t.Errorf("%s: byte %d %q of %q maps to %d:%d holding %q", c.name, i, want, n.Value, p.Line, p.Column, at)
			}
		}
	}
}

// valueOf returns the value of the first mapping key named key.
func valueOf(n *yaml.Node, key string) *yaml.Node {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				return n.Content[i+1]
			}
		}
	}
	for _, c := range n.Content {
		if v := valueOf(c, key); v != nil {
			return v
		}
	}
	return nil
}

// TestScalarPositionsUnknownForm: a scalar the decoder reads differently
// from yaml.v3 gets no map (the caller falls back to its start).
func TestScalarPositionsUnknownForm(t *testing.T) {
	src := "k: 'a b'\n"
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatal(err)
	}
	n := valueOf(&doc, "k")
	n.Value = "something else"
	if _, ok := scalarPositions([]byte(src), n); ok {
		t.Error("a map for a value the text does not hold")
	}
	parts := textParts{{file: "f.yaml", data: []byte(src), node: n}}
	if got := parts.position(3); got != (Position{File: "f.yaml", Line: 1, Column: 4}) {
		t.Errorf("fallback position %v, want the scalar's start f.yaml:1:4", got)
	}
}
