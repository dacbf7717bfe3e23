package falco

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// wantMsg is the expected first message of a file's verdict.
type wantMsg struct {
	code, desc, message, item string
	file                      string
	line, col                 int
	snippetHas                string
}

func checkMsg(t *testing.T, m LoadMessage, w wantMsg) {
	t.Helper()
	pos := m.Position()
	if m.Code != w.code || m.CodeDesc != w.desc || m.Message != w.message {
		t.Errorf("message = %s (%s): %q, want %s (%s): %q", m.Code, m.CodeDesc, m.Message, w.code, w.desc, w.message)
	}
	if pos.File != w.file || pos.Line != w.line || pos.Column != w.col {
		t.Errorf("position = %s:%d:%d, want %s:%d:%d", pos.File, pos.Line, pos.Column, w.file, w.line, w.col)
	}
	if m.Item() != w.item {
		t.Errorf("item = %q, want %q", m.Item(), w.item)
	}
	if !strings.Contains(m.Snippet, w.snippetHas) || !strings.HasSuffix(m.Snippet, "^\n") {
		t.Errorf("snippet = %q, want it to hold %q and end with the caret", m.Snippet, w.snippetHas)
	}
}

// Expectations for the recorded validation samples. Positions are Falco's
// 0-based ones plus one; yaml_err's agrees with yaml-cpp's own 1-based
// "line 3, column 13".
var (
	badCond = wantMsg{
		code: "LOAD_ERR_COMPILE_CONDITION", desc: "Error compiling condition",
		message: "filter_check called with nonexistent field proc.nonexistent_field",
		item:    "rule 'Bad condition'", file: "/v/bad_cond.yaml", line: 3, col: 14,
		snippetHas: "evt.type = execve and proc.nonexistent_field = foo",
	}
	badMacro = wantMsg{
		code: "LOAD_ERR_VALIDATE", desc: "Error validating rule/macro/list/exception objects",
		message: "Undefined macro 'my_undefined_macro' used in filter.",
		item:    "rule 'Undefined macro'", file: "/v/bad_macro.yaml", line: 1, col: 3,
		snippetHas: "evt.type = execve and my_undefined_macro",
	}
	badSyntax = wantMsg{
		code: "LOAD_ERR_YAML_VALIDATE", desc: "Error validating internal structure of YAML file",
		message: "Item has no mapping for key 'priority'",
		item:    "rule 'Broken'", file: "/v/bad_syntax.yaml", line: 1, col: 3,
		snippetHas: "- rule: Broken",
	}
	missingField = wantMsg{
		code: "LOAD_ERR_YAML_VALIDATE", desc: "Error validating internal structure of YAML file",
		message: "Item has no mapping for key 'output'",
		item:    "rule 'Missing output'", file: "/v/missing_field.yaml", line: 1, col: 3,
		snippetHas: "- rule: Missing output",
	}
	yamlErr = wantMsg{
		code: "LOAD_ERR_YAML_PARSE", desc: "YAML parse error",
		message: "yaml-cpp: error at line 3, column 13: illegal map value",
		item:    "", file: "/v/yaml_err.yaml", line: 3, col: 13,
		snippetHas: "   condition: [unclosed",
	}
	warnEvttype = wantMsg{
		code: "LOAD_NO_EVTTYPE", desc: "Condition has no event-type restriction",
		message: "Rule matches too many evt.type values. This has a significant performance penalty.",
		item:    "rule 'Warn rule'", file: "/v/warn.yaml", line: 1, col: 3,
		snippetHas: "- rule: Warn rule",
	}
)

func TestParseLoadTextErrors(t *testing.T) {
	for _, tc := range []struct {
		fixture string
		want    wantMsg
	}{
		{"validate/bad_cond.out", badCond},
		{"validate/bad_cond.err", badCond},
		{"validate/d1.err", badCond}, // the same error in a start-up log
		{"validate/bad_macro.out", badMacro},
		{"validate/bad_macro.err", badMacro},
		{"validate/bad_syntax.out", badSyntax},
		{"validate/bad_syntax.err", badSyntax},
		{"validate/missing_field.out", missingField},
		{"validate/missing_field.err", missingField},
		{"validate/yaml_err.out", yamlErr},
		{"validate/yaml_err.err", yamlErr},
		{"validate/jy.err", yamlErr},
		{"logs/err43b-0.43.1.stderr", wantMsg{
			code: "LOAD_ERR_COMPILE_OUTPUT", desc: "Error compiling output", message: "invalid formatting token container.id",
			item: "rule 'Test rm -rf'", file: "test/rules43/rm_rf.yaml", line: 4, col: 11,
			snippetHas: `  output: "rm -rf seen (user=%user.name cmdline=%proc.cmdline pid=%proc.pid)"`,
		}},
		{"logs/start-fails-invalid-rules-0.43.1.stderr", wantMsg{
			code: "LOAD_ERR_COMPILE_OUTPUT", desc: "Error compiling output", message: "invalid formatting token container.id container_name=%container.name)",
			item: "rule 'Test rm -rf'", file: "/etc/falco/rules.d/rm_rf.yaml", line: 4, col: 11,
			snippetHas: `  output: "rm -rf seen (user=%user.name cmdline=%proc.cmdline pid=%proc.pid container_id...`,
		}},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			results := ParseLoadText(readFixture(t, tc.fixture))
			if len(results) != 1 {
				t.Fatalf("got %d results, want 1: %+v", len(results), results)
			}
			r := results[0]
			if r.File != tc.want.file || r.Status != StatusInvalid || len(r.Errors) != 1 || len(r.Warnings) != 0 {
				t.Fatalf("result = %s %q, %d errors, %d warnings; want %s Invalid with 1 error", r.File, r.Status, len(r.Errors), len(r.Warnings), tc.want.file)
			}
			checkMsg(t, r.Errors[0], tc.want)
			e := rulesError(results)
			if e == nil || e.File != tc.want.file || e.Line != tc.want.line || e.Column != tc.want.col || e.Code != tc.want.code || e.Message != tc.want.message {
				t.Errorf("rulesError = %+v, want %s:%d:%d %s %q", e, tc.want.file, tc.want.line, tc.want.col, tc.want.code, tc.want.message)
			}
		})
	}
}

func TestParseLoadTextWarnings(t *testing.T) {
	for _, tc := range []struct {
		fixture string
		want    wantMsg
	}{
		{"validate/warn.err", warnEvttype},
		{"validate/jw.err", warnEvttype},
		{"logs/err43c-0.43.1.stderr", wantMsg{
			code: "LOAD_DEPRECATED_ITEM", desc: "Used deprecated item: field 'evt.dir'",
			message: "due to the drop of enter events, 'evt.dir = <' always evaluates to true, and 'evt.dir = >' always evaluates to false. " +
				"The rule expression can be simplified by removing the condition on 'evt.dir'",
			item: "rule 'Test rm -rf'", file: "test/rules43/rm_rf.yaml", line: 3, col: 14,
			snippetHas: "condition: evt.type in (execve, execveat) and evt.dir=<",
		}},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			results := ParseLoadText(readFixture(t, tc.fixture))
			if len(results) != 1 || results[0].Status != StatusOkWarnings || len(results[0].Warnings) != 1 || len(results[0].Errors) != 0 {
				t.Fatalf("results = %+v, want one file Ok with one warning", results)
			}
			checkMsg(t, results[0].Warnings[0], tc.want)
			if e := rulesError(results); e != nil {
				t.Errorf("warnings made an error: %v", e)
			}
		})
	}
}

func TestParseLoadTextStatuses(t *testing.T) {
	for _, tc := range []struct {
		fixture string
		want    []LoadResult
	}{
		{"validate/good.out", []LoadResult{{File: "/v/good.yaml", Status: StatusOk}}},
		// Text mode prints warning details on stderr only (FACTS.md).
		{"validate/warn.out", []LoadResult{{File: "/v/warn.yaml", Status: StatusOkWarnings}}},
		{"validate/unknown_key.out", []LoadResult{{File: "/v/unknown_key.yaml", Status: StatusOk, SchemaWarnings: []string{
			"failed for <root>[0]: Object contains a property that could not be validated using 'properties' or 'additionalProperties' constraints: 'bogus_key'.",
			"failed for <root>: Failed to validate item #0 in array.",
		}}}},
		{"validate/good.err", nil},
		{"validate/unknown_key.err", nil},
		{"validate/d2.err", nil},
		{"validate/d3.err", nil},
		{"validate/d4.err", nil},
		{"logs/start-and-stop-0.40.0.stderr", nil},
		{"logs/start-fails-memlock-0.40.0.stderr", nil},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			got := ParseLoadText(readFixture(t, tc.fixture))
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestParseLoadTextCumulative(t *testing.T) {
	// json.err: three -V files; the third repeats the second's error.
	results := ParseLoadText(readFixture(t, "validate/json.err"))
	if len(results) != 3 {
		t.Fatalf("got %d results, want 3", len(results))
	}
	dropEchoes(results)
	want := []struct {
		file   string
		status LoadStatus
		errs   int
	}{
		{"/v/good.yaml", StatusOk, 0},
		{"/v/bad_cond.yaml", StatusInvalid, 1},
		{"/v/warn.yaml", StatusNotChecked, 0},
	}
	for i, w := range want {
		if r := results[i]; r.File != w.file || r.Status != w.status || len(r.Errors) != w.errs {
			t.Errorf("result %d = %s %q %d errors, want %s %q %d", i, r.File, r.Status, len(r.Errors), w.file, w.status, w.errs)
		}
	}
	checkMsg(t, results[1].Errors[0], badCond)
	e := rulesError(results)
	if e == nil || e.File != "/v/bad_cond.yaml" || len(e.All) != 1 {
		t.Fatalf("rulesError = %+v, want the one error of bad_cond.yaml", e)
	}
}

func TestParseLoadJSON(t *testing.T) {
	t.Run("json.out", func(t *testing.T) {
		results, err := ParseLoadJSON([]byte(readFixture(t, "validate/json.out")))
		if err != nil {
			t.Fatal(err)
		}
		dropEchoes(results)
		if len(results) != 3 || results[0].Status != StatusOk || results[1].Status != StatusInvalid || results[2].Status != StatusNotChecked {
			t.Fatalf("results = %+v", results)
		}
		checkMsg(t, results[1].Errors[0], badCond)
		// The text and JSON reports of one error agree once parsed.
		text := ParseLoadText(readFixture(t, "validate/bad_cond.out"))
		if !reflect.DeepEqual(text[0].Errors[0], results[1].Errors[0]) {
			t.Errorf("text and JSON disagree:\ntext %+v\njson %+v", text[0].Errors[0], results[1].Errors[0])
		}
	})
	t.Run("jw.out", func(t *testing.T) {
		results, err := ParseLoadJSON([]byte(readFixture(t, "validate/jw.out")))
		if err != nil {
			t.Fatal(err)
		}
		if len(results) != 1 || results[0].Status != StatusOkWarnings || len(results[0].Warnings) != 1 {
			t.Fatalf("results = %+v", results)
		}
		w := warnEvttype
		w.desc = "A rule condition matches too many evt.type values. This has a significant performance penalty. " +
			"Make the condition more specific by adding an evt.type field or further restricting the number of evt.type values in the condition."
		checkMsg(t, results[0].Warnings[0], w)
	})
	t.Run("jy.out", func(t *testing.T) {
		results, err := ParseLoadJSON([]byte(readFixture(t, "validate/jy.out")))
		if err != nil {
			t.Fatal(err)
		}
		if len(results) != 1 || results[0].Status != StatusInvalid {
			t.Fatalf("results = %+v", results)
		}
		checkMsg(t, results[0].Errors[0], yamlErr)
	})
	t.Run("not JSON", func(t *testing.T) {
		if _, err := ParseLoadJSON([]byte(readFixture(t, "validate/good.out"))); err == nil {
			t.Error("text output parsed as JSON")
		}
		if _, err := ParseLoadJSON([]byte(`{"other":1}`)); err == nil {
			t.Error("JSON without falco_load_results accepted")
		}
	})
}

func TestRulesErrorMessage(t *testing.T) {
	lines := strings.Split(readFixture(t, "logs/start-fails-invalid-rules-0.43.1.stderr"), "\n")
	hostPath := func(p string) string {
		if p == "/etc/falco/rules.d/rm_rf.yaml" {
			return "rules/rm_rf.yaml"
		}
		return p
	}
	e := classifyExit(PhaseStart, 1, lines, hostPath, runFacts{})
	var re *RulesError
	if !errors.As(e, &re) {
		t.Fatalf("no RulesError in %v", e)
	}
	if re.File != "rules/rm_rf.yaml" || re.Line != 4 || re.Column != 11 || re.Code != "LOAD_ERR_COMPILE_OUTPUT" ||
		re.Message != "invalid formatting token container.id container_name=%container.name)" || re.Item != "rule 'Test rm -rf'" {
		t.Errorf("rules error = %+v", re)
	}
	msg := e.Error()
	for _, want := range []string{
		"falco exited with code 1 during start: ",
		`invalid rules file "rules/rm_rf.yaml": rules/rm_rf.yaml:4:11: rule 'Test rm -rf': LOAD_ERR_COMPILE_OUTPUT (Error compiling output): invalid formatting token container.id`,
		"In rules content: (rules/rm_rf.yaml:1:1)\n    rule 'Test rm -rf': (rules/rm_rf.yaml:1:3)\n    rule output: (rules/rm_rf.yaml:4:11)\n------\n",
		"          ^\n------\n",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error message lacks %q:\n%s", want, msg)
		}
	}
}
