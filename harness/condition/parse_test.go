package condition

import (
	"strings"
	"testing"
)

// roundTrip parses src, prints it, parses the print, and checks that both
// trees are Equal and that printing is stable.
func roundTrip(t *testing.T, src string) (Expr, string) {
	t.Helper()
	e, err := Parse(src)
	if err != nil {
		t.Fatalf("Parse(%q): %v", src, err)
	}
	out, err := Print(e)
	if err != nil {
		t.Fatalf("Print(Parse(%q)): %v", src, err)
	}
	e2, err := Parse(out)
	if err != nil {
		t.Fatalf("Parse(Print(Parse(%q))) = Parse(%q): %v", src, out, err)
	}
	if !Equal(e, e2) {
		t.Fatalf("%q printed as %q, which parses to another tree", src, out)
	}
	if again, _ := Print(e2); again != out {
		t.Fatalf("printing is not stable: %q then %q", out, again)
	}
	return e, out
}

func TestParsePrint(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"evt.type = execve", "evt.type = execve"},
		{"evt.type=execve and evt.dir=<", "evt.type = execve and evt.dir = <"},
		{"evt.dir=>", "evt.dir = >"},
		{"spawned_process", "spawned_process"},
		{"a and b or c", "a and b or c"},
		{"a or b and c", "a or b and c"},
		{"(a or b) and c", "(a or b) and c"},
		{"a and (b and c)", "a and (b and c)"},
		{"a or (b or c)", "a or (b or c)"},
		{"((a))", "a"},
		{"not a and b", "not a and b"},
		{"not (a and b)", "not (a and b)"},
		{"not(a)", "not a"},
		{"not not a", "a"},
		{"not (not a)", "not (not a)"},
		{"not not not a", "not a"},
		{"a and not b or not c", "a and not b or not c"},
		{"a and(b)", "a and b"},
		{"a or(b and c)", "a or b and c"},
		{"\n  a\n  and\tb\n", "a and b"},
		{"proc.name in (bash, sh, 'zsh', \"fish shell\")", `proc.name in (bash, sh, 'zsh', "fish shell")`},
		{"proc.name in(bash,sh)", "proc.name in (bash, sh)"},
		{"proc.name in ()", "proc.name in ()"},
		{"proc.name in shell_binaries", "proc.name in shell_binaries"},
		{"proc.name intersects (a)", "proc.name intersects (a)"},
		{"fd.name pmatch (/tmp, /var/tmp)", "fd.name pmatch (/tmp, /var/tmp)"},
		{"proc.aname[2] = sshd", "proc.aname[2] = sshd"},
		{"proc.env[AR_TOKEN] != \"\"", `proc.env[AR_TOKEN] != ""`},
		{`proc.env["A B"] exists`, `proc.env["A B"] exists`},
		{"fd.types[0] = file", "fd.types[0] = file"},
		{"evt.arg.flags contains O_TRUNC", "evt.arg.flags contains O_TRUNC"},
		{"evt.rawres < 0", "evt.rawres < 0"},
		{"evt.rawres<=-1", "evt.rawres <= -1"},
		{"fd.sport >= 0x10", "fd.sport >= 0x10"},
		{"proc.pid > 1.5e+3", "proc.pid > 1.5e+3"},
		{"proc.name == bash", "proc.name == bash"},
		{"proc.cmdline icontains \"-rf\"", `proc.cmdline icontains "-rf"`},
		{"fd.name glob '/home/*/.ssh/*'", "fd.name glob '/home/*/.ssh/*'"},
		{"fd.name iglob x", "fd.name iglob x"},
		{"evt.buffer bcontains CAFEBABE", "evt.buffer bcontains CAFEBABE"},
		{"evt.buffer bstartswith 7f454c46", "evt.buffer bstartswith 7f454c46"},
		{"fd.name endswith .conf", "fd.name endswith .conf"},
		{"proc.name regex '^py[0-9]+$'", "proc.name regex '^py[0-9]+$'"},
		{"k8s.pod.name exists", "k8s.pod.name exists"},
		{"tolower(proc.name) = bash", "tolower(proc.name) = bash"},
		{"toupper( proc.name ) = BASH", "toupper(proc.name) = BASH"},
		{"b64(evt.arg.data) contains x", "b64(evt.arg.data) contains x"},
		{"basename(proc.exepath) = sh", "basename(proc.exepath) = sh"},
		{"len(proc.args) > 100", "len(proc.args) > 100"},
		{"tolower(basename(proc.exepath)) = sh", "tolower(basename(proc.exepath)) = sh"},
		{"proc.name = val(proc.pname)", "proc.name = val(proc.pname)"},
		{"proc.name = tolower(proc.pname)", "proc.name = tolower(proc.pname)"},
		{"len(proc.args) > len(proc.env)", "len(proc.args) > len(proc.env)"},
		{"proc.name in tolower(proc.aname)", "proc.name in tolower(proc.aname)"},
		{`join(proc.env, ";") contains x`, `join(proc.env, ";") contains x`},
		{`join((proc.name, "x", 1), "-") = a`, `join((proc.name, "x", 1), "-") = a`},
		{"proc.name startswith anyof (kube-, etcd-)", "proc.name startswith anyof (kube-, etcd-)"},
		{"proc.name = oneof", "proc.name = oneof"},
		{`proc.cmdline contains "a \"b\" c"`, `proc.cmdline contains "a \"b\" c"`},
		{`proc.cmdline contains 'it\'s'`, `proc.cmdline contains 'it\'s'`},
		{`proc.cmdline contains "tab\there"`, `proc.cmdline contains "tab\there"`},
		{`fd.name = "C:\\dir\ "`, `fd.name = "C:\\dir\ "`},
		{`fd.name = "a\ "`, `fd.name = "a\ "`},
		{`fd.name = "\/x"`, `fd.name = "/x"`},
		// A list operator needs no blank: Falco reads `inside` as `in side`.
		{"proc.name inside", "proc.name in side"},
		{"proc.name = and and b", "proc.name = and and b"},
		{"(not)", "(not)"},
		{"x and (not)", "x and (not)"},
	} {
		_, got := roundTrip(t, c.in)
		if got != c.want {
			t.Errorf("Print(Parse(%q)) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestParseTree(t *testing.T) {
	e, _ := roundTrip(t, "a or b and not c")
	or, ok := e.(*Or)
	if !ok || len(or.Terms) != 2 {
		t.Fatalf("got %#v, want Or of two terms", e)
	}
	and, ok := or.Terms[1].(*And)
	if !ok || len(and.Terms) != 2 {
		t.Fatalf("second term %#v, want And", or.Terms[1])
	}
	if _, ok := and.Terms[1].(*Not); !ok {
		t.Fatalf("%#v, want Not", and.Terms[1])
	}
	// The published T1490 rule's bug: the guard binds to the last clause.
	e, _ = roundTrip(t, `proc.name = rm or proc.name = systemctl and user.name != "root"`)
	if or, ok := e.(*Or); !ok || len(or.Terms) != 2 {
		t.Fatalf("got %#v, want the guard inside the Or's last term", e)
	}
}

func TestSpans(t *testing.T) {
	src := `  spawned_process and proc.aname[2] in (a, "b c") or not evt.dir = <`
	e, err := Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"*condition.Or":      `spawned_process and proc.aname[2] in (a, "b c") or not evt.dir = <`,
		"*condition.And":     `spawned_process and proc.aname[2] in (a, "b c")`,
		"*condition.Ident":   "spawned_process",
		"*condition.Compare": "",
		"*condition.Field":   "",
		"*condition.List":    `(a, "b c")`,
		"*condition.Not":     "not evt.dir = <",
	}
	var texts []string
	Walk(e, func(n Node) bool {
		s := n.Source()
		texts = append(texts, src[s.Pos:s.End])
		return true
	})
	for _, w := range want {
		if w == "" {
			continue
		}
		found := false
		for _, got := range texts {
			found = found || got == w
		}
		if !found {
			t.Errorf("no node spans %q; spans: %q", w, texts)
		}
	}
	for _, w := range []string{"proc.aname[2]", `proc.aname[2] in (a, "b c")`, `"b c"`, "evt.dir = <", "<", "a"} {
		found := false
		for _, got := range texts {
			found = found || got == w
		}
		if !found {
			t.Errorf("no node spans %q; spans: %q", w, texts)
		}
	}
	c := e.(*Or).Terms[1].(*Not).X.(*Compare)
	if src[c.OpPos:c.OpPos+1] != "=" {
		t.Errorf("OpPos %d points at %q", c.OpPos, src[c.OpPos:])
	}
}

func TestParseErrors(t *testing.T) {
	for _, c := range []struct {
		in     string
		offset int
		msg    string
	}{
		{"", 0, "condition is empty"},
		{"  \n", 0, "condition is empty"},
		{"(a and b", 0, `unbalanced parenthesis: this "(" is never closed`},
		{"a and (b or (c)", 6, `unbalanced parenthesis`},
		{"a and b)", 7, `unbalanced parenthesis: ")" without a "(" before it`},
		{"proc.name in (a, b", 13, `unbalanced parenthesis: the list's "(" is never closed`},
		{"proc.name !== bash", 10, `unknown operator "!=="`},
		{"proc.name === bash", 10, `unknown operator "==="`},
		{"proc.pid <> 1", 9, `unknown operator "<>"`},
		{"proc.name equals bash", 10, `unknown operator "equals"`},
		{"proc.name ~= bash", 10, `unknown operator "~="`},
		{"proc.name containsx", 10, `unknown operator "containsx"`},
		{"proc.name existsx", 10, `unknown operator "existsx"`},
		{`proc.name contains"x"`, 10, `operator "contains" must be followed by a blank`},
		{"proc.name in", 12, `expected a value after "in"`},
		{"proc.name in ,", 13, `expected a value after "in"`},
		{"proc.name = ", 12, `expected a value after "="`},
		{"proc.name contains", 18, `expected a value after "contains"`},
		{"proc.pid > abc", 11, `expected a number after ">"`},
		{"proc.name", 9, `expected an operator after proc.name`},
		{"proc.name and a", 10, `expected an operator after proc.name, found "and"`},
		{"a and", 5, `expected a condition after "and", found the end of the condition`},
		{"a and ", 6, `expected a condition (a field comparison, a macro name, or "(") after "and"`},
		{"a or or", 0, ""}, // a macro named or: the rules check reports it
		// libs' lexer takes a quote after a backslash for an escaped
		// one, so this string never closes.
		{`fd.name = "C:\\dir\\"`, 10, "unterminated string"},
		{"a andb", 2, `unexpected "andb" after "a"`},
		{"a b", 2, `unexpected "b" after "a"`},
		{"proc.name = a b", 14, `unexpected "b" after "a"`},
		{"proc.name in (a,)", 16, `expected a value after "," in the list`},
		{"proc.name in (a b)", 16, `expected "," or ")" in the list`},
		{`proc.name = "abc`, 12, `unterminated string`},
		{`proc.name = "a\d"`, 14, `unsupported escape sequence \d`},
		{`proc.name = "a\'"`, 14, `invalid \' escape in a "-quoted string`},
		{"proc.aname[ 2] = x", 11, `expected an argument of proc.aname after "["`},
		{"proc.aname[2 = x", 12, `expected "]" after the argument of proc.aname`},
		{"tolower(proc.name = x", 18, `expected ")" to close tolower(`},
		{"tolower(proc.name", 0, `unbalanced parenthesis: tolower( is never closed`},
		{"tolower() = x", 8, `expected an argument of tolower(`},
		{"proc.name = val(x)", 16, `expected a field in val(`},
		{"lower(proc.name) = x", 0, `unknown transformer "lower"`},
		{"a and val(proc.name) = x", 6, `val() goes on the right of an operator only`},
		{"a and\x00b", 5, "NUL byte"},
		{"evt.type = execve and proc.nonexistent_field", 44, "expected an operator"},
		{"a and not", 6, ""}, // `not` with nothing after it is a macro named not: an undefined macro, not a syntax error
		{strings.Repeat("(", 300) + "a" + strings.Repeat(")", 300), 0, "nested too deeply"},
	} {
		_, err := Parse(c.in)
		if c.msg == "" {
			if err != nil {
				t.Errorf("Parse(%q): %v, want no error", c.in, err)
			}
			continue
		}
		se, ok := err.(*SyntaxError)
		if !ok {
			t.Errorf("Parse(%q) = %v, want a *SyntaxError", c.in, err)
			continue
		}
		if !strings.Contains(se.Msg, c.msg) || (c.offset != 0 || c.msg != "nested too deeply") && se.Offset != c.offset {
			t.Errorf("Parse(%q) = %d: %s\nwant %d: …%s…", c.in, se.Offset, se.Msg, c.offset, c.msg)
		}
	}
}

// A few hundred levels of parentheses are fine: Falco's bound is on
// recursion, about 5 levels per parenthesis.
func TestParseDepth(t *testing.T) {
	src := strings.Repeat("(", 150) + "a" + strings.Repeat(")", 150)
	if _, err := Parse(src); err != nil {
		t.Fatalf("150 nested parentheses: %v", err)
	}
}

// BenchmarkParseUpstream: parse every condition of the upstream rules
// files once per iteration.
func BenchmarkParseUpstream(b *testing.B) {
	seeds := seedConditions(b)
	b.ReportAllocs()
	for b.Loop() {
		for _, s := range seeds {
			if _, err := Parse(s); err != nil {
				b.Fatal(err)
			}
		}
	}
}
