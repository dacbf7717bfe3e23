package condition

import (
	"fmt"
	"strings"
)

// maxDepth is the recursion bound Falco's rule loader gives the parser
// (rule_loader_compiler.cpp: set_max_depth(1000)); every parsing function
// below counts one level, as libs' depth_guard does.
const maxDepth = 1000

// Parse parses a condition written in Falco's filter language. Each
// function below is the libs parser function of the same purpose
// (parser.cpp), so a condition Parse accepts is one Falco parses to the same
// tree, and one it refuses Falco refuses too (see doc.go for the few
// deliberate differences). The error is a *SyntaxError.
func Parse(src string) (Expr, error) {
	if strings.TrimLeft(src, " \t\b\r\n") == "" {
		return nil, &SyntaxError{Offset: 0, Msg: "condition is empty"}
	}
	if i := strings.IndexByte(src, 0); i >= 0 {
		return nil, &SyntaxError{Offset: i, Msg: "condition contains a NUL byte"}
	}
	p := &parser{src: src}
	return p.run()
}

type parser struct {
	src   string
	pos   int
	depth int
	// after is the token before the current position, for messages:
	// "expected a condition after \"and\"".
	after string
}

// bail carries a *SyntaxError out of the recursion to run.
type bail struct{ err *SyntaxError }

func (p *parser) run() (e Expr, err error) {
	defer func() {
		if r := recover(); r != nil {
			b, ok := r.(bail)
			if !ok {
				panic(r)
			}
			e, err = nil, b.err
		}
	}()
	e = p.parseOr()
	if p.pos != len(p.src) {
		p.trailing()
	}
	return e, nil
}

func (p *parser) failAt(off int, format string, args ...any) {
	panic(bail{&SyntaxError{Offset: off, Msg: fmt.Sprintf(format, args...)}})
}

func (p *parser) enter() {
	p.depth++
	if p.depth >= maxDepth {
		p.failAt(p.pos, "condition nested too deeply (Falco stops at %d levels of recursion)", maxDepth)
	}
}

func (p *parser) leave() { p.depth-- }

func (p *parser) rest() string { return p.src[p.pos:] }

// blank skips blanks and reports whether there were any.
func (p *parser) blank() bool {
	start := p.pos
	for p.pos < len(p.src) && isBlank(p.src[p.pos]) {
		p.pos++
	}
	return p.pos > start
}

// lit consumes s if the input continues with it.
func (p *parser) lit(s string) bool {
	if strings.HasPrefix(p.rest(), s) {
		p.pos += len(s)
		p.after = s
		return true
	}
	return false
}

// notBlank consumes `not` followed by white space (RGX_NOTBLANK).
func (p *parser) notBlank() bool {
	r := p.rest()
	if len(r) < 4 || r[:3] != "not" || !isSpace(r[3]) {
		return false
	}
	p.pos += 4
	for p.pos < len(p.src) && isSpace(p.src[p.pos]) {
		p.pos++
	}
	p.after = "not"
	return true
}

// token returns a short excerpt of the input at off, for messages.
func (p *parser) token(off int) string {
	s := p.src[off:]
	switch {
	case s == "":
		return "the end of the condition"
	case isIdentByte(s[0]) || s[0] == '.':
		j := 0
		for j < len(s) && (isIdentByte(s[j]) || s[j] == '.') {
			j++
		}
		return fmt.Sprintf("%q", s[:j])
	case s[0] == '"' || s[0] == '\'':
		if j := scanQuoted(s, 0); j > 0 {
			return fmt.Sprintf("%q", s[:min(j, 40)])
		}
	}
	j := 0
	for j < len(s) && j < 20 && !isBlank(s[j]) {
		j++
	}
	return fmt.Sprintf("%q", s[:max(j, 1)])
}

func (p *parser) trailing() {
	if p.src[p.pos] == ')' {
		p.failAt(p.pos, `unbalanced parenthesis: ")" without a "(" before it`)
	}
	if p.after == "" {
		p.failAt(p.pos, "unexpected %s: expected and, or, or the end of the condition", p.token(p.pos))
	}
	p.failAt(p.pos, "unexpected %s after %q: expected and, or, or the end of the condition", p.token(p.pos), p.after)
}

// keyword consumes and or or; the caller checks what follows.
func (p *parser) keyword(kw string) bool {
	r := p.rest()
	if !strings.HasPrefix(r, kw) {
		return false
	}
	// `orange` after a comparison is an unexpected word, not an `or`
	// missing its blank: report it as such (Falco: "expected blank or
	// '(' after 'or'").
	if len(r) > len(kw) && isIdentByte(r[len(kw)]) {
		return false
	}
	p.pos += len(kw)
	p.after = kw
	return true
}

// parseLogic is parse_or and parse_and: terms joined by kw.
func (p *parser) parseLogic(kw string, term func() Expr) Expr {
	p.enter()
	defer p.leave()
	p.blank()
	start := p.pos
	terms := []Expr{term()}
	end := p.pos
	p.blank()
	for p.keyword(kw) {
		var t Expr
		if p.blank() {
			t = term()
		} else if open := p.pos; p.lit("(") {
			t = p.parseEmbedded(open)
		} else if p.pos == len(p.src) {
			p.failAt(p.pos, "expected a condition after %q, found the end of the condition", kw)
		} else {
			p.failAt(p.pos, "%q must be followed by a blank or \"(\"", kw)
		}
		terms = append(terms, t)
		end = p.pos
		p.blank()
	}
	if len(terms) == 1 {
		return terms[0]
	}
	span := Span{Pos: start, End: end}
	if kw == "or" {
		return &Or{Span: span, Terms: terms}
	}
	return &And{Span: span, Terms: terms}
}

func (p *parser) parseOr() Expr  { return p.parseLogic("or", p.parseAnd) }
func (p *parser) parseAnd() Expr { return p.parseLogic("and", p.parseNot) }

func (p *parser) parseNot() Expr {
	p.enter()
	defer p.leave()
	p.blank()
	start := p.pos
	neg := false
	for p.notBlank() {
		neg = !neg
	}
	var x Expr
	if open := p.pos; p.lit("not(") {
		neg = !neg
		x = p.parseEmbedded(open + 3)
	} else {
		x = p.parseCheck()
	}
	if !neg {
		return x
	}
	return &Not{Span: Span{Pos: start, End: p.pos}, X: x}
}

// parseEmbedded parses the rest of `( expr )` after the "(" at open.
func (p *parser) parseEmbedded(open int) Expr {
	p.enter()
	defer p.leave()
	p.blank()
	x := p.parseOr()
	p.blank()
	if !p.lit(")") {
		if p.pos == len(p.src) {
			p.failAt(open, `unbalanced parenthesis: this "(" is never closed`)
		}
		p.failAt(p.pos, `unexpected %s: expected and, or, or ")" to close the "(" at offset %d`, p.token(p.pos), open)
	}
	return x
}

func (p *parser) parseCheck() Expr {
	p.enter()
	defer p.leave()
	p.blank()
	start := p.pos
	if p.lit("(") {
		return p.parseEmbedded(start)
	}
	if end := scanFieldName(p.src, p.pos); end > p.pos {
		name := p.src[p.pos:end]
		p.pos, p.after = end, name
		left := p.parseFieldRemainder(name, start)
		return p.parseCondition(left, start)
	}
	if t := transformerAt(p.rest()); t != "" {
		p.pos += len(t) + 1
		p.blank()
		left := p.parseTransformRemainder(t, start)
		return p.parseCondition(left, start)
	}
	if end := scanIdent(p.src, p.pos); end > p.pos {
		name := p.src[p.pos:end]
		if end < len(p.src) && p.src[end] == '(' {
			if name == "val" {
				p.failAt(start, "val() goes on the right of an operator only, e.g. proc.name = val(proc.pname)")
			}
			p.failAt(start, "unknown transformer %q (Falco's: %s)", name, strings.Join(Transformers, " "))
		}
		p.pos, p.after = end, name
		return &Ident{Span: Span{Pos: start, End: end}, Name: name}
	}
	what := "a condition (a field comparison, a macro name, or \"(\")"
	switch {
	case p.pos == len(p.src):
		p.failAt(p.pos, "expected %s after %q, found the end of the condition", what, p.after)
	case p.src[p.pos] == ')':
		p.failAt(p.pos, `expected %s, found ")"`, what)
	}
	p.failAt(p.pos, "expected %s, found %s", what, p.token(p.pos))
	return nil
}

func (p *parser) parseFieldRemainder(name string, start int) *Field {
	p.enter()
	defer p.leave()
	f := &Field{Name: name}
	if p.lit("[") {
		switch q := p.peek(); {
		case q == '"' || q == '\'':
			f.Arg, f.ArgQuote = p.quoted(), q
		default:
			end := scanFieldArg(p.src, p.pos)
			if end == p.pos {
				p.failAt(p.pos, "expected an argument of %s after \"[\" (a bare or quoted string)", name)
			}
			f.Arg, p.pos = p.src[p.pos:end], end
		}
		f.HasArg = true
		if !p.lit("]") {
			p.failAt(p.pos, "expected \"]\" after the argument of %s, found %s", name, p.token(p.pos))
		}
	}
	f.Span = Span{Pos: start, End: p.pos}
	return f
}

func (p *parser) peek() byte {
	if p.pos < len(p.src) {
		return p.src[p.pos]
	}
	return 0
}

// quoted consumes the quoted string at the current position and returns
// its value.
func (p *parser) quoted() string {
	start := p.pos
	end := scanQuoted(p.src, start)
	if end == start {
		p.failAt(start, "unterminated string: this %c is never closed", p.src[start])
	}
	text, bad, msg := unquote(p.src[start:end])
	if msg != "" {
		p.failAt(start+bad, "%s", msg)
	}
	p.pos, p.after = end, p.src[start:end]
	return text
}

// parseTransformRemainder parses the arguments and ")" of a transformer
// whose "name(" was consumed (parse_field_or_transformer_remainder).
func (p *parser) parseTransformRemainder(name string, start int) *Transform {
	p.enter()
	defer p.leave()
	p.blank()
	t := &Transform{Name: name}
	for {
		t.Args = append(t.Args, p.parseTransformArg(name))
		p.blank()
		if !p.lit(",") {
			break
		}
	}
	p.blank()
	if !p.lit(")") {
		if p.pos == len(p.src) {
			p.failAt(start, "unbalanced parenthesis: %s( is never closed", name)
		}
		p.failAt(p.pos, "expected \")\" to close %s(, found %s", name, p.token(p.pos))
	}
	t.Span = Span{Pos: start, End: p.pos}
	return t
}

// value consumes a value of the given scanner (number, bare string) at the
// current position, if there is one.
func (p *parser) value(scan func(string, int) int) *Value {
	start := p.pos
	end := scan(p.src, start)
	if end == start {
		return nil
	}
	p.pos, p.after = end, p.src[start:end]
	return &Value{Span: Span{Pos: start, End: end}, Text: p.src[start:end]}
}

func (p *parser) quotedValue() *Value {
	q := p.peek()
	if q != '"' && q != '\'' {
		return nil
	}
	start := p.pos
	text := p.quoted()
	return &Value{Span: Span{Pos: start, End: p.pos}, Text: text, Quote: q}
}

// parseTransformArg is parse_field_transformer_arg: a number, a quoted
// string, a list, a transformer or a field.
func (p *parser) parseTransformArg(of string) Operand {
	p.enter()
	defer p.leave()
	p.blank()
	start := p.pos
	if v := p.value(scanNumeric); v != nil {
		return v
	}
	if v := p.quotedValue(); v != nil {
		return v
	}
	if p.lit("(") {
		return p.parseArgList(start)
	}
	if t := transformerAt(p.rest()); t != "" {
		p.pos += len(t) + 1
		return p.parseTransformRemainder(t, start)
	}
	if end := scanFieldName(p.src, p.pos); end > p.pos {
		name := p.src[p.pos:end]
		p.pos, p.after = end, name
		return p.parseFieldRemainder(name, start)
	}
	p.failAt(p.pos, "expected an argument of %s(: a field, a transformer, a quoted string, a number or a list; found %s", of, p.token(p.pos))
	return nil
}

// parseArgList is parse_transformer_list, after its "(".
func (p *parser) parseArgList(open int) *ArgList {
	l := &ArgList{}
	p.blank()
	if !p.lit(")") {
		for {
			p.blank()
			l.Items = append(l.Items, p.parseArgListItem())
			p.blank()
			if !p.lit(",") {
				break
			}
		}
		if !p.lit(")") {
			if p.pos == len(p.src) {
				p.failAt(open, `unbalanced parenthesis: this "(" is never closed`)
			}
			p.failAt(p.pos, `expected "," or ")" in the list, found %s`, p.token(p.pos))
		}
	}
	l.Span = Span{Pos: open, End: p.pos}
	return l
}

// parseArgListItem is parse_transformer_list_arg.
func (p *parser) parseArgListItem() Operand {
	start := p.pos
	if end := scanFieldName(p.src, p.pos); end > p.pos {
		name := p.src[p.pos:end]
		p.pos, p.after = end, name
		return p.parseFieldRemainder(name, start)
	}
	if t := transformerAt(p.rest()); t != "" {
		p.pos += len(t) + 1
		p.blank()
		return p.parseTransformRemainder(t, start)
	}
	if v := p.quotedValue(); v != nil {
		return v
	}
	if v := p.value(scanNumeric); v != nil {
		return v
	}
	p.failAt(p.pos, "expected a field, a transformer, a quoted string or a number in the list, found %s", p.token(p.pos))
	return nil
}

// operator matches the operator at the current position the way the
// libs parser tries them; ok is false when none matches.
func (p *parser) operator() (op Operator, class operatorClass, ok bool) {
	r := p.rest()
	for _, e := range operatorTable {
		w := string(e.op)
		if !strings.HasPrefix(r, w) {
			continue
		}
		next := byte(0)
		if len(r) > len(w) {
			next = r[len(w)]
		}
		wordOp := isLetter(w[0])
		switch {
		case e.needBlank && next != 0 && !isBlank(next):
			if isIdentByte(next) {
				p.unknownOperator()
			}
			p.failAt(p.pos, "operator %q must be followed by a blank", w)
		case e.needBlank && next == 0:
			p.failAt(p.pos+len(w), "expected a value after %q, found the end of the condition", w)
		case e.op == OpExists && isIdentByte(next):
			p.unknownOperator()
		case !wordOp && (next == '=' || e.class == classNumber && strings.IndexByte("<>!", next) >= 0):
			// `!==`, `===`, `<>`: no value starts with these, so
			// the author meant another operator.
			p.unknownOperator()
		}
		p.pos += len(w)
		p.after = w
		return e.op, e.class, true
	}
	return "", 0, false
}

// unknownOperator reports the word or symbols at the current position as
// an operator Falco does not have.
func (p *parser) unknownOperator() {
	r := p.rest()
	j := 0
	if isIdentByte(r[0]) {
		for j < len(r) && isIdentByte(r[j]) {
			j++
		}
	} else {
		for j < len(r) && !isBlank(r[j]) && !isIdentByte(r[j]) && !strings.ContainsRune(`()"',`, rune(r[j])) {
			j++
		}
	}
	p.failAt(p.pos, "unknown operator %q (Falco's operators: %s)", r[:max(j, 1)], operatorList())
}

func operatorList() string {
	ops := Operators()
	s := make([]string, len(ops))
	for i, o := range ops {
		s[i] = string(o)
	}
	return strings.Join(s, " ")
}

// parseCondition is parse_condition: the operator and right-hand side of
// a comparison whose left side is parsed.
func (p *parser) parseCondition(left Operand, start int) Expr {
	p.enter()
	defer p.leave()
	subject := p.src[start:p.pos]
	p.blank()
	opPos := p.pos
	op, class, ok := p.operator()
	if !ok {
		r := p.rest()
		switch {
		case r == "", r[0] == ')':
			p.failAt(p.pos, "expected an operator after %s (compare it, e.g. %s = value, or check it with exists)", subject, subject)
		case strings.HasPrefix(r, "and") || strings.HasPrefix(r, "or"):
			if j := scanIdent(r, 0); r[:j] == "and" || r[:j] == "or" {
				p.failAt(p.pos, "expected an operator after %s, found %q (compare it, e.g. %s = value, or check it with exists)", subject, r[:j], subject)
			}
		}
		p.unknownOperator()
	}
	if class == classUnary {
		return &Exists{Span: Span{Pos: start, End: p.pos}, Left: left}
	}
	c := &Compare{Left: left, Op: op, OpPos: opPos}
	switch class {
	case classNumber:
		c.Right = p.parseNumRight(op)
	case classString:
		c.Modifier, c.Right = p.parseStrRight(op)
	default:
		c.Right = p.parseListRight(op)
	}
	c.Span = Span{Pos: start, End: p.pos}
	return c
}

func (p *parser) parseNumRight(op Operator) Operand {
	p.enter()
	defer p.leave()
	p.blank()
	if t := p.tryTransformOrVal(); t != nil {
		return t
	}
	if v := p.value(scanNumeric); v != nil {
		return v
	}
	p.failAt(p.pos, "expected a number after %q, found %s", op, p.token(p.pos))
	return nil
}

func (p *parser) parseStrRight(op Operator) (string, Operand) {
	p.enter()
	defer p.leave()
	p.blank()
	if m := p.modifier(); m != "" {
		open := p.pos
		p.lit("(")
		return m, p.parseList(open, op)
	}
	if t := p.tryTransformOrVal(); t != nil {
		return "", t
	}
	if v := p.quotedValue(); v != nil {
		return "", v
	}
	if v := p.value(scanBare); v != nil {
		return "", v
	}
	p.failAt(p.pos, "expected a value after %q, found %s", op, p.token(p.pos))
	return "", nil
}

// modifier consumes `oneof`, `anyof` or `allof` when a "(" follows it.
func (p *parser) modifier() string {
	end := scanIdent(p.src, p.pos)
	word := p.src[p.pos:end]
	if !isModifier(word) {
		return ""
	}
	j := end
	for j < len(p.src) && isBlank(p.src[j]) {
		j++
	}
	if j == len(p.src) || p.src[j] != '(' {
		return ""
	}
	p.pos, p.after = j, word
	return word
}

func (p *parser) parseListRight(op Operator) Operand {
	p.enter()
	defer p.leave()
	p.blank()
	if open := p.pos; p.lit("(") {
		return p.parseList(open, op)
	}
	if t := p.tryTransformOrVal(); t != nil {
		return t
	}
	if v := p.value(scanIdent); v != nil {
		return v
	}
	p.failAt(p.pos, "expected a value after %q: a list like (a, b), a list name, or a transformer; found %s", op, p.token(p.pos))
	return nil
}

// parseList parses the items and ")" of a value list after its "(".
func (p *parser) parseList(open int, op Operator) *List {
	l := &List{}
	p.blank()
	if v := p.listItem(); v != nil {
		l.Items = append(l.Items, v)
		p.blank()
		for p.lit(",") {
			p.blank()
			v := p.listItem()
			if v == nil {
				p.failAt(p.pos, "expected a value after \",\" in the list of %q, found %s", op, p.token(p.pos))
			}
			l.Items = append(l.Items, v)
			p.blank()
		}
	}
	if !p.lit(")") {
		if p.pos == len(p.src) {
			p.failAt(open, `unbalanced parenthesis: the list's "(" is never closed`)
		}
		p.failAt(p.pos, `expected "," or ")" in the list of %q, found %s`, op, p.token(p.pos))
	}
	l.Span = Span{Pos: open, End: p.pos}
	return l
}

func (p *parser) listItem() *Value {
	if v := p.quotedValue(); v != nil {
		return v
	}
	return p.value(scanBare)
}

// tryTransformOrVal is try_parse_transformer_or_val: val(field), or a
// transformer, on the right of an operator; nil when neither is there.
func (p *parser) tryTransformOrVal() *Transform {
	p.enter()
	defer p.leave()
	p.blank()
	start := p.pos
	if p.lit("val(") {
		p.blank()
		fstart := p.pos
		end := scanFieldName(p.src, p.pos)
		if end == p.pos {
			p.failAt(p.pos, "expected a field in val(, found %s", p.token(p.pos))
		}
		name := p.src[p.pos:end]
		p.pos, p.after = end, name
		f := p.parseFieldRemainder(name, fstart)
		p.blank()
		if !p.lit(")") {
			if p.pos == len(p.src) {
				p.failAt(start, "unbalanced parenthesis: val( is never closed")
			}
			p.failAt(p.pos, "expected \")\" to close val(, found %s", p.token(p.pos))
		}
		return &Transform{Span: Span{Pos: start, End: p.pos}, Name: "val", Args: []Operand{f}}
	}
	if t := transformerAt(p.rest()); t != "" {
		p.pos += len(t) + 1
		p.blank()
		return p.parseTransformRemainder(t, start)
	}
	return nil
}
