package condition

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Event is one event as its field values: "proc.name" → "rm", with a
// field's argument as written in a condition: "proc.env[HOME]",
// "proc.aname[2]". A field the event does not hold is unknown, never a
// value: Eval does not guess it.
type Event map[string]string

// Truth is what a condition is for an event: true, false, or unknown when
// the answer depends on what the event does not say.
type Truth int

// The truths of Eval, by Kleene's three-valued logic: `false and unknown` is
// false, `true or unknown` is true, `not unknown` is unknown.
const (
	False Truth = iota
	True
	Unknown
)

func (t Truth) String() string {
	return [...]string{"false", "true", "unknown"}[t]
}

// Eval evaluates an expanded condition (no macro names, see Ident) over an
// event, offline, as Falco's filter would for the fields the event holds.
// unknown names, sorted and once each, what the event or this evaluator
// lacked: fields it does not hold, macros left unexpanded, and operators or
// transformers Eval does not model (regex, b64, bstartswith, bcontains, list
// modifiers), each given as what it is, e.g. "regex".
//
// Strings compare as bytes; two sides that both read as integers compare as
// numbers (`user.uid != 0` against "0"); `in` and `intersects` compare the
// value with each item, which is what they do for a single-valued field;
// pmatch matches a path or a path below it; glob is fnmatch without
// FNM_PATHNAME (`*` matches `/`), iglob the same without case.
func Eval(e Expr, ev Event) (t Truth, unknown []string) {
	x := evaluator{ev: ev, unknown: map[string]bool{}}
	t = x.expr(e)
	for k := range x.unknown {
		unknown = append(unknown, k)
	}
	slices.Sort(unknown)
	return t, unknown
}

type evaluator struct {
	ev      Event
	unknown map[string]bool
}

func (x *evaluator) lack(what string) Truth {
	x.unknown[what] = true
	return Unknown
}

func (x *evaluator) expr(e Expr) Truth {
	switch e := e.(type) {
	case *And:
		t := True
		for _, term := range e.Terms {
			switch x.expr(term) {
			case False:
				t = False
			case Unknown:
				if t == True {
					t = Unknown
				}
			}
		}
		return t
	case *Or:
		t := False
		for _, term := range e.Terms {
			switch x.expr(term) {
			case True:
				t = True
			case Unknown:
				if t == False {
					t = Unknown
				}
			}
		}
		return t
	case *Not:
		switch x.expr(e.X) {
		case True:
			return False
		case False:
			return True
		}
		return Unknown
	case *Ident:
		return x.lack("macro " + e.Name)
	case *Exists:
		key, ok := fieldKey(e.Left)
		if !ok {
			return x.lack("exists of a transformer")
		}
		if _, ok := x.ev[key]; ok {
			return True
		}
		return False
	case *Compare:
		return x.compare(e)
	}
	return x.lack("expression")
}

// fieldKey is the event key of a plain field operand.
func fieldKey(o Operand) (string, bool) {
	f, ok := o.(*Field)
	if !ok {
		return "", false
	}
	if f.HasArg {
		return f.Name + "[" + f.Arg + "]", true
	}
	return f.Name, true
}

// value is an operand's value for the event.
func (x *evaluator) value(o Operand) (string, bool) {
	switch o := o.(type) {
	case *Field:
		key, _ := fieldKey(o)
		v, ok := x.ev[key]
		if !ok {
			x.lack(key)
		}
		return v, ok
	case *Value:
		return o.Text, true
	case *Transform:
		if len(o.Args) != 1 {
			x.lack(o.Name + "()")
			return "", false
		}
		v, ok := x.value(o.Args[0])
		if !ok {
			return "", false
		}
		switch o.Name {
		case "val":
			return v, true
		case "tolower":
			return strings.ToLower(v), true
		case "toupper":
			return strings.ToUpper(v), true
		case "basename":
			return v[strings.LastIndexByte(v, '/')+1:], true
		case "len":
			return strconv.Itoa(len(v)), true
		}
		x.lack(o.Name + "()")
	}
	return "", false
}

func (x *evaluator) compare(c *Compare) Truth {
	if c.Modifier != "" {
		return x.lack(c.Modifier + " modifier")
	}
	left, ok := x.value(c.Left)
	if !ok {
		return Unknown
	}
	var rights []string
	if l, isList := c.Right.(*List); isList {
		for _, it := range l.Items {
			rights = append(rights, it.Text)
		}
	} else {
		r, ok := x.value(c.Right)
		if !ok {
			return Unknown
		}
		rights = []string{r}
	}
	var match func(l, r string) (bool, bool)
	switch c.Op {
	case OpEq, OpEqEq, OpIn, OpIntersects:
		match = func(l, r string) (bool, bool) { return equal(l, r), true }
	case OpNe:
		return truth(!equal(left, rights[0]))
	case OpLT, OpLE, OpGT, OpGE:
		a, errA := strconv.ParseInt(left, 0, 64)
		b, errB := strconv.ParseInt(rights[0], 0, 64)
		if errA != nil || errB != nil {
			return x.lack(string(c.Op) + " of a value that is not a number")
		}
		return truth(map[Operator]bool{OpLT: a < b, OpLE: a <= b, OpGT: a > b, OpGE: a >= b}[c.Op])
	case OpContains:
		match = func(l, r string) (bool, bool) { return strings.Contains(l, r), true }
	case OpIContains:
		match = func(l, r string) (bool, bool) { return strings.Contains(strings.ToLower(l), strings.ToLower(r)), true }
	case OpStartsWith:
		match = func(l, r string) (bool, bool) { return strings.HasPrefix(l, r), true }
	case OpEndsWith:
		match = func(l, r string) (bool, bool) { return strings.HasSuffix(l, r), true }
	case OpPMatch:
		match = func(l, r string) (bool, bool) {
			return l == r || strings.HasPrefix(l, strings.TrimSuffix(r, "/")+"/"), true
		}
	case OpGlob, OpIGlob:
		match = func(l, r string) (bool, bool) {
			if c.Op == OpIGlob {
				l, r = strings.ToLower(l), strings.ToLower(r)
			}
			re, err := globRegexp(r)
			if err != nil {
				return false, false
			}
			return re.MatchString(l), true
		}
	default:
		return x.lack(string(c.Op))
	}
	for _, r := range rights {
		m, ok := match(left, r)
		if !ok {
			return x.lack(string(c.Op) + " " + r)
		}
		if m {
			return True
		}
	}
	return False
}

func truth(b bool) Truth {
	if b {
		return True
	}
	return False
}

// equal compares as numbers when both sides read as integers (Falco
// compares a numeric field with the number the text gives), else as text.
func equal(a, b string) bool {
	x, errA := strconv.ParseInt(a, 0, 64)
	y, errB := strconv.ParseInt(b, 0, 64)
	if errA == nil && errB == nil {
		return x == y
	}
	return a == b
}

// globRegexp turns an fnmatch pattern (without FNM_PATHNAME) into an
// anchored regular expression: * any run, ? any byte, [...] a class.
func globRegexp(p string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString(`^(?s:`)
	for i := 0; i < len(p); i++ {
		switch c := p[i]; c {
		case '*':
			b.WriteString(`.*`)
		case '?':
			b.WriteString(`.`)
		case '[':
			j := strings.IndexByte(p[i+1:], ']')
			if j < 0 {
				b.WriteString(`\[`)
				continue
			}
			class := p[i+1 : i+1+j]
			if strings.HasPrefix(class, "!") {
				class = "^" + class[1:]
			}
			b.WriteString("[" + strings.ReplaceAll(class, `\`, `\\`) + "]")
			i += j + 1
		case '\\':
			if i+1 < len(p) {
				i++
				b.WriteString(regexp.QuoteMeta(p[i : i+1]))
			}
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString(`)$`)
	return regexp.Compile(b.String())
}
