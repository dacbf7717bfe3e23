package rules

import "gopkg.in/yaml.v3"

// textPart is one YAML scalar a condition or output was built from: the
// definition, then each append (Falco joins them with a blank).
type textPart struct {
	start int // byte offset of the part in the joined text
	file  string
	data  []byte // the file's content
	node  *yaml.Node
}

// textParts are the scalars a joined text came from, in order.
type textParts []textPart

// part returns the scalar of one item, to stand at the start of a text.
func (l *loader) part(n *yaml.Node) textParts {
	return textParts{{file: l.file, data: l.data, node: n}}
}

// appendTo joins add to *text the way Falco appends a condition or output
// (with a blank; an empty addition changes nothing) and records where it
// came from.
func (t *textParts) appendTo(text *string, add string, from textParts) {
	if add == "" {
		return
	}
	*text += " "
	for _, p := range from {
		p.start += len(*text)
		*t = append(*t, p)
	}
	*text += add
}

// position returns the file position of the byte at offset off of the
// joined text: exact within the scalar when its style is known (see
// scalarPositions), the scalar's start otherwise. The blank between two
// parts counts as the start of the next one.
func (t textParts) position(off int) Position {
	if len(t) == 0 {
		return Position{}
	}
	p := t[0]
	for _, q := range t[1:] {
		if q.start-1 <= off {
			p = q
		}
	}
	pos := Position{File: p.file, Line: p.node.Line, Column: p.node.Column}
	rel := max(off-p.start, 0)
	if at, ok := scalarPositions(p.data, p.node); ok && len(at) > 0 {
		at := at[min(rel, len(at)-1)]
		pos.Line, pos.Column = at.Line, at.Column
	}
	return pos
}
