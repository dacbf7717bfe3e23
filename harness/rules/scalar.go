package rules

import (
	"bytes"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// scalarPositions maps each byte of a YAML scalar's value to the line and
// column it was written at, so that a problem at an offset of a condition
// points into the file: plain, single- and double-quoted scalars (with line
// folding and escapes), literal | and folded > blocks (with chomping and
// indentation indicators). It decodes the scalar itself and keeps the map
// only when its decoding gives back n.Value; otherwise (a form it does not
// know) ok is false and the caller falls back to the scalar's start.
func scalarPositions(src []byte, n *yaml.Node) (pos []Position, ok bool) {
	start, ok := nodeOffset(src, n)
	if !ok {
		return nil, false
	}
	r := &scalarReader{src: src, off: start, line: n.Line, col: n.Column}
	r.skipProperties()
	var d decoded
	switch {
	case n.Style&yaml.DoubleQuotedStyle != 0:
		d, ok = r.quoted('"')
	case n.Style&yaml.SingleQuotedStyle != 0:
		d, ok = r.quoted('\'')
	case n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0:
		return r.block(n)
	default:
		d, ok = r.plain(len(n.Value))
	}
	if !ok || string(d.text) != n.Value {
		return nil, false
	}
	return d.pos, true
}

// nodeOffset turns a node's 1-based line and column (in characters) into a
// byte offset in src.
func nodeOffset(src []byte, n *yaml.Node) (int, bool) {
	off := 0
	for line := 1; line < n.Line; line++ {
		i := bytes.IndexByte(src[off:], '\n')
		if i < 0 {
			return 0, false
		}
		off += i + 1
	}
	for col := 1; col < n.Column; col++ {
		if off >= len(src) || src[off] == '\n' {
			return 0, false
		}
		_, size := utf8.DecodeRune(src[off:])
		off += size
	}
	return off, true
}

// decoded is a scalar's value and, per byte, where it was written.
type decoded struct {
	text []byte
	pos  []Position
}

func (d *decoded) addByte(c byte, p Position) {
	d.text = append(d.text, c)
	d.pos = append(d.pos, p)
}

func (d *decoded) add(s string, p Position) {
	d.text = append(d.text, s...)
	for range len(s) {
		d.pos = append(d.pos, p)
	}
}

type scalarReader struct {
	src       []byte
	off       int
	line, col int
}

func (r *scalarReader) eof() bool { return r.off >= len(r.src) }

func (r *scalarReader) peek() byte {
	if r.eof() {
		return 0
	}
	return r.src[r.off]
}

func (r *scalarReader) here() Position { return Position{Line: r.line, Column: r.col} }

// next consumes one byte; columns count characters, as yaml.v3's do.
func (r *scalarReader) next() byte {
	c := r.src[r.off]
	r.off++
	switch {
	case c == '\n':
		r.line++
		r.col = 1
	case c&0xC0 != 0x80:
		r.col++
	}
	return c
}

// skipProperties skips an anchor or tag written before the scalar.
func (r *scalarReader) skipProperties() {
	for c := r.peek(); c == '&' || c == '!'; c = r.peek() {
		for !r.eof() && !isYAMLSpace(r.peek()) && r.peek() != '\n' {
			r.next()
		}
		for !r.eof() && (isYAMLSpace(r.peek()) || r.peek() == '\n') {
			r.next()
		}
	}
}

func isYAMLSpace(c byte) bool { return c == ' ' || c == '\t' }

// fold consumes a line break in a flow scalar and the blank lines and
// indentation after it, and adds what YAML makes of them: a space, or one
// newline per blank line.
func (r *scalarReader) fold(d *decoded) {
	at := r.here()
	r.next()
	empty := 0
	for {
		for isYAMLSpace(r.peek()) {
			r.next()
		}
		if r.peek() != '\n' {
			break
		}
		empty++
		r.next()
	}
	if empty == 0 {
		d.add(" ", at)
		return
	}
	d.add(strings.Repeat("\n", empty), at)
}

// plain decodes a plain scalar of n bytes.
func (r *scalarReader) plain(n int) (decoded, bool) {
	var d decoded
	var spaces []Position
	for len(d.text) < n && !r.eof() {
		switch c := r.peek(); {
		case c == '\r':
			r.next()
		case isYAMLSpace(c):
			spaces = append(spaces, r.here())
			r.next()
		case c == '\n':
			spaces = spaces[:0]
			r.fold(&d)
		default:
			for _, p := range spaces {
				d.add(" ", p)
			}
			spaces = spaces[:0]
			d.addByte(c, r.here())
			r.next()
		}
	}
	return d, true
}

// quoted decodes a single- or double-quoted scalar, from its opening quote.
func (r *scalarReader) quoted(q byte) (decoded, bool) {
	var d decoded
	if r.peek() != q {
		return d, false
	}
	r.next()
	var spaces []Position
	flush := func() {
		for _, p := range spaces {
			d.add(" ", p)
		}
		spaces = spaces[:0]
	}
	for !r.eof() {
		at := r.here()
		switch c := r.peek(); {
		case c == q && q == '\'' && r.off+1 < len(r.src) && r.src[r.off+1] == '\'':
			flush()
			r.next()
			r.next()
			d.add("'", at)
		case c == q:
			flush()
			return d, true
		case c == '\r':
			r.next()
		case isYAMLSpace(c):
			spaces = append(spaces, at)
			r.next()
		case c == '\n':
			spaces = spaces[:0]
			r.fold(&d)
		case c == '\\' && q == '"':
			flush()
			r.next()
			if r.peek() == '\n' || r.peek() == '\r' {
				// An escaped line break joins the lines.
				for r.peek() == '\r' || r.peek() == '\n' {
					r.next()
				}
				for isYAMLSpace(r.peek()) {
					r.next()
				}
				continue
			}
			s, ok := r.escape()
			if !ok {
				return d, false
			}
			d.add(s, at)
		default:
			flush()
			d.addByte(c, at)
			r.next()
		}
	}
	return d, false
}

// escape decodes the escape after a backslash in a double-quoted scalar.
func (r *scalarReader) escape() (string, bool) {
	if r.eof() {
		return "", false
	}
	c := r.next()
	simple := map[byte]string{
		'0': "\x00", 'a': "\a", 'b': "\b", 't': "\t", '\t': "\t", 'n': "\n", 'v': "\v", 'f': "\f",
		'r': "\r", 'e': "\x1b", ' ': " ", '"': `"`, '/': "/", '\\': `\`,
		'N': "\u0085", '_': "\u00a0", 'L': "\u2028", 'P': "\u2029",
	}
	if s, ok := simple[c]; ok {
		return s, true
	}
	digits := map[byte]int{'x': 2, 'u': 4, 'U': 8}[c]
	if digits == 0 || r.off+digits > len(r.src) {
		return "", false
	}
	v, err := strconv.ParseUint(string(r.src[r.off:r.off+digits]), 16, 32)
	if err != nil {
		return "", false
	}
	for range digits {
		r.next()
	}
	return string(rune(v)), true
}

// blockLine is one line of a block scalar's content.
type blockLine struct {
	text  []byte
	pos   []Position // per byte of text
	brk   Position   // where its line break is
	empty bool       // blank: only indentation
	more  bool       // more indented than the block (folding keeps its breaks)
}

// block decodes a literal or folded block scalar from its indicator. With
// an indentation indicator the content's indentation is relative to the
// parent node's, which the node does not record: every parent indentation
// up to the indicator's column is tried.
func (r *scalarReader) block(n *yaml.Node) ([]Position, bool) {
	folded := r.peek() == '>'
	r.next()
	chomp, explicit := byte(0), 0
	for c := r.peek(); c == '+' || c == '-' || c >= '1' && c <= '9'; c = r.peek() {
		if c == '+' || c == '-' {
			chomp = c
		} else {
			explicit = int(c - '0')
		}
		r.next()
	}
	for !r.eof() && r.peek() != '\n' {
		r.next() // blanks and a comment
	}
	if r.eof() {
		return nil, n.Value == ""
	}
	r.next()
	parents := []int{-1}
	if explicit > 0 {
		parents = parents[:0]
		for p := 0; p < n.Column; p++ {
			parents = append(parents, p)
		}
	}
	for _, parent := range parents {
		indent := -1
		if explicit > 0 {
			indent = parent + explicit
		}
		rr := *r
		lines := rr.blockLines(indent)
		d := joinBlock(lines, folded, chomp)
		if string(d.text) == n.Value {
			return d.pos, true
		}
	}
	return nil, false
}

// blockLines reads the content lines of a block scalar with the given
// indentation (-1: the first non-blank line's).
func (r *scalarReader) blockLines(indent int) []blockLine {
	var lines []blockLine
	for !r.eof() {
		lineStart := *r
		spaces := 0
		for r.peek() == ' ' {
			r.next()
			spaces++
		}
		blank := r.eof() || r.peek() == '\n' || r.peek() == '\r'
		if !blank && indent < 0 {
			indent = spaces
		}
		if !blank && spaces < indent {
			*r = lineStart
			break
		}
		l := blockLine{empty: blank && (indent < 0 || spaces <= indent)}
		*r = lineStart
		for k := 0; k < indent && r.peek() == ' '; k++ {
			r.next()
		}
		if !l.empty {
			l.more = isYAMLSpace(r.peek())
			for !r.eof() && r.peek() != '\n' {
				if r.peek() == '\r' {
					r.next()
					continue
				}
				l.pos = append(l.pos, r.here())
				l.text = append(l.text, r.next())
			}
		} else {
			for !r.eof() && r.peek() != '\n' {
				r.next()
			}
		}
		l.brk = r.here()
		lines = append(lines, l)
		if r.eof() {
			break
		}
		r.next()
	}
	return lines
}

// joinBlock applies literal or folded line joining and chomping.
func joinBlock(lines []blockLine, folded bool, chomp byte) decoded {
	var d decoded
	last := len(lines) - 1
	for last >= 0 && lines[last].empty {
		last--
	}
	for i := 0; i <= last; i++ {
		l := lines[i]
		if l.empty {
			d.add("\n", l.brk)
			continue
		}
		d.text = append(d.text, l.text...)
		d.pos = append(d.pos, l.pos...)
		if i == last {
			break
		}
		if folded && !l.more {
			// Fold this break into a space when the next line is a
			// normal content line; drop it when blank lines follow
			// (each gives its own newline).
			j := i + 1
			for j <= last && lines[j].empty {
				j++
			}
			if !lines[j].more {
				if j == i+1 {
					d.add(" ", l.brk)
				}
				continue
			}
		}
		d.add("\n", l.brk)
	}
	if last < 0 {
		return d
	}
	switch chomp {
	case '-':
	case '+':
		d.add("\n", lines[last].brk)
		for _, l := range lines[last+1:] {
			d.add("\n", l.brk)
		}
	default:
		d.add("\n", lines[last].brk)
	}
	return d
}
