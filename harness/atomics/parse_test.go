package atomics

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

const goodAtomics = `attack_technique: T1070.003
display_name: Clear Command History
atomic_tests:
- name: Remove history
  auto_generated_guid: 11111111-2222-4333-8444-555555555555
  description: |
    Removes it.
  supported_platforms: [linux, macos]
  input_arguments:
    file:
      description: the file
      type: path
      default: /root/.bash_history
    size:
      description: bytes kept
      type: integer
      default: 0
    nothing:
      description: no default
      type: string
  dependency_executor_name: bash
  dependencies:
  - description: rm exists
    prereq_command: command -v rm
    get_prereq_command: echo install coreutils
  executor:
    name: sh
    elevation_required: true
    command: |
      rm -f #{file}
    cleanup_command: |
      touch #{file}
`

func TestParse(t *testing.T) {
	tech, warns, err := Parse("T1070.003.yaml", []byte(goodAtomics))
	if err != nil || len(warns) != 0 {
		t.Fatalf("Parse: %v, warnings %v", err, warns)
	}
	want := &Technique{
		Path: "T1070.003.yaml", ID: "T1070.003", DisplayName: "Clear Command History",
		Tests: []Test{{
			Number: 1, Name: "Remove history", GUID: "11111111-2222-4333-8444-555555555555",
			Description: "Removes it.\n", Platforms: []string{"linux", "macos"},
			Inputs: []Input{
				{Name: "file", Description: "the file", Type: "path", Default: "/root/.bash_history", HasDefault: true},
				{Name: "size", Description: "bytes kept", Type: "integer", Default: "0", HasDefault: true},
				{Name: "nothing", Description: "no default", Type: "string"},
			},
			DependencyExecutor: "bash",
			Dependencies:       []Dependency{{Description: "rm exists", Prereq: "command -v rm", GetPrereq: "echo install coreutils"}},
			Executor:           Executor{Name: "sh", Command: "rm -f #{file}\n", Cleanup: "touch #{file}\n", ElevationRequired: true},
			Line:               4,
		}},
	}
	if !reflect.DeepEqual(tech, want) {
		t.Errorf("got\n%+v\nwant\n%+v", tech, want)
	}
}

// TestParseProblems: every problem names the file, the line and column, the
// test it is in and what to do.
func TestParseProblems(t *testing.T) {
	for name, tc := range map[string]struct {
		yaml string
		want []string
	}{
		"syntax": {
			yaml: "attack_technique: T1070\natomic_tests:\n- name: a\n  executor: {name: sh\n",
			want: []string{"f.yaml:4:1: did not find expected ',' or '}' (fix the YAML syntax)"},
		},
		"empty": {yaml: "# nothing\n", want: []string{"f.yaml: file is empty (an atomics file holds attack_technique and atomic_tests)"}},
		"not a mapping": {
			yaml: "- T1070\n",
			want: []string{"f.yaml:1:1: an atomics file must be a mapping (see atomic_red_team/spec.yaml of Atomic Red Team)"},
		},
		"missing keys": {
			yaml: "display_name: x\n",
			want: []string{
				`f.yaml:1:1: missing attack_technique (give the ATT&CK id, like "attack_technique: T1070.003")`,
				"f.yaml:1:1: missing atomic_tests (list the tests under atomic_tests)",
			},
		},
		"tests not a list": {
			yaml: "attack_technique: T1070\natomic_tests:\n  name: a\n",
			want: []string{"f.yaml:3:3: atomic_tests is not a list (write atomic_tests as a list of tests (- name: ...))"},
		},
		"test problems": {
			yaml: "attack_technique: T1070\natomic_tests:\n- name: ok\n  supported_platforms: linux\n  executor:\n    command: id\n    elevation_required: maybe\n- description: no name\n",
			want: []string{
				`f.yaml:4:24: atomic test 1 "ok": supported_platforms is not a list (write it as a list: [linux, macos])`,
				`f.yaml:6:5: atomic test 1 "ok": executor has no name (name the executor: sh, bash, command_prompt, powershell or manual)`,
				`f.yaml:7:25: atomic test 1 "ok": elevation_required is not a boolean (write true or false)`,
				"f.yaml:8:3: atomic test 2: missing name (name the test)",
				"f.yaml:8:3: atomic test 2: missing executor (add executor: with name and command)",
			},
		},
		"nested problems": {
			yaml: "attack_technique: T1070\natomic_tests:\n- name: a\n  input_arguments: [x]\n  dependencies:\n  - prereq_command: [a, b]\n  executor: {name: sh, name: bash}\n",
			want: []string{
				`f.yaml:4:20: atomic test 1 "a": input_arguments must be a mapping (see atomic_red_team/spec.yaml of Atomic Red Team)`,
				`f.yaml:6:21: atomic test 1 "a": prereq_command is not a string (write it as a string)`,
				`f.yaml:7:24: atomic test 1 "a": key "name" appears twice in executor (keep one of them)`,
			},
		},
	} {
		_, _, err := Parse("f.yaml", []byte(tc.yaml))
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Errorf("%s: err = %v, want a *ParseError", name, err)
			continue
		}
		var got []string
		for _, p := range pe.Problems {
			got = append(got, p.String())
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: problems\n%s\nwant\n%s", name, strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
		}
	}
}

// TestParseWarnsOfUnknownKeys: a key the format does not have is a warning
// with its line; the file still imports.
func TestParseWarnsOfUnknownKeys(t *testing.T) {
	src := strings.Replace(goodAtomics, "  executor:\n", "  executr_typo: x\n  executor:\n", 1)
	tech, warns, err := Parse("f.yaml", []byte(src))
	if err != nil || tech == nil {
		t.Fatalf("Parse: %v", err)
	}
	if len(warns) != 1 || warns[0].String() != `f.yaml:26:3: warning: atomic test 1 "Remove history": key "executr_typo" is not part of the atomics format; ignored (keys of an atomic test: name, auto_generated_guid, description, supported_platforms, input_arguments, dependency_executor_name, dependencies, executor)` {
		t.Errorf("warnings %v", warns)
	}
}
