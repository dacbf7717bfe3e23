package atomics

import "fmt"

// Technique is one atomics file: the tests of one ATT&CK technique.
type Technique struct {
	Path        string // as given to Parse
	ID          string // attack_technique, as written ("T1070.003")
	DisplayName string
	Tests       []Test
}

// Test is one atomic test.
type Test struct {
	Number      int // 1-based position in atomic_tests: Atomic Red Team's test number
	Name        string
	GUID        string // auto_generated_guid; "" when the file has none
	Description string
	Platforms   []string // supported_platforms
	Inputs      []Input  // input_arguments, in file order
	// DependencyExecutor runs the dependencies; "" means the executor's name.
	DependencyExecutor string
	Dependencies       []Dependency
	Executor           Executor
	Line               int // of the test's first key, in Path
}

// Input is one input argument.
type Input struct {
	Name        string
	Description string
	Type        string
	Default     string
	HasDefault  bool // false when default is missing or null
}

// Dependency is one prerequisite of a test.
type Dependency struct {
	Description string
	Prereq      string // prereq_command: exits 0 when the prerequisite is met
	GetPrereq   string // get_prereq_command: meets it
}

// Executor says how a test's commands run.
type Executor struct {
	Name              string // sh, bash, command_prompt, powershell, manual, ...
	Command           string
	Cleanup           string // cleanup_command
	ElevationRequired bool
	Steps             string // the instructions of a manual executor
}

// Input returns the input argument with the given name.
func (t Test) Input(name string) (Input, bool) {
	for _, in := range t.Inputs {
		if in.Name == name {
			return in, true
		}
	}
	return Input{}, false
}

// Label names the test in messages: `atomic test 2 "Clear Bash history (echo)"`.
func (t Test) Label() string { return fmt.Sprintf("atomic test %d %q", t.Number, t.Name) }
