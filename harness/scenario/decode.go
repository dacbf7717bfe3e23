package scenario

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/attack-replay/attack-replay/harness/attack"
	"github.com/attack-replay/attack-replay/harness/rules"
	"github.com/attack-replay/attack-replay/harness/yamlsyntax"
)

// Keys of each mapping, in the order hints list them (docs/scenario-format.md).
var (
	fileKeys      = []string{"technique", "tactic", "name", "scenarios"}
	scenarioKeys  = []string{"id", "description", "skip", "benign", "victim", "user", "env", "workdir", "timeout", "setup", "steps", "cleanup", "expect", "forbid", "forbid_others"}
	stepKeys      = []string{"run", "exec", "sleep", "tty", "exit", "timeout", "must_succeed", "user"}
	victimKeys    = []string{"image", "capabilities", "privileged", "extra_hosts", "read_only", "network"}
	capKeys       = []string{"add", "drop"}
	matcherKeys   = []string{"rule", "priority", "output", "fields", "tags", "min", "max"}
	textMatchKeys = []string{"equals", "contains", "regex"}
)

var (
	idPattern      = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
	envNamePattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	// userPattern is what docker exec -u takes: a name or uid, optionally
	// with :group or :gid.
	userPattern = regexp.MustCompile(`^[A-Za-z0-9_.][A-Za-z0-9_.-]*(:[A-Za-z0-9_.][A-Za-z0-9_.-]*)?$`)
	// fieldPattern is a Falco field name ("proc.name", "proc.aname[2]",
	// "proc.env[AR_TOKEN]") or a name the harness appends ("ar_token").
	fieldPattern = regexp.MustCompile(`^[A-Za-z0-9_]+(\.[A-Za-z0-9_.]+)?(\[[^\]]*\])?$`)
)

// unsure marks, in a scenario's key set, that whether the scenario expects
// or forbids anything is unknown: benign could not be read, or a key looks
// like a misspelled expect or forbid. The check is then skipped, as the
// problem with the key says it all.
const unsure = "?"

// reservedEnvPrefix marks the variables the harness sets on every exec to
// attribute alerts (alert.EnvToken, alert.EnvBarrier).
const reservedEnvPrefix = "AR_"

// document parses the YAML and returns the file's top node.
func (d *decoder) document(data []byte) *yaml.Node {
	if len(data) > maxFileSize {
		d.errorf(&yaml.Node{Line: 1, Column: 1}, "a technique file stays under 1 MiB: split it, or move what is large out of the scenarios tree",
			"file is %d bytes", len(data))
		return nil
	}
	if i := binaryAt(data); i >= 0 {
		line := 1 + bytes.Count(data[:i], []byte("\n"))
		col := i - bytes.LastIndexByte(data[:i], '\n')
		d.errorf(&yaml.Node{Line: line, Column: col}, "a technique file is YAML text: remove this file from the scenarios tree",
			"not a text file: byte 0x%02x at offset %d", data[i], i)
		return nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			d.errorf(&yaml.Node{Line: 1, Column: 1}, "a technique file needs technique, tactic and scenarios; see docs/scenario-format.md", "file is empty")
			return nil
		}
		d.yamlError(data, err)
		return nil
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		n := &extra
		if len(extra.Content) > 0 {
			n = extra.Content[0]
		}
		d.errorf(n, "move its scenarios into the first document and delete the ---", "a technique file holds one YAML document, this is a second one")
	case !errors.Is(err, io.EOF):
		d.yamlError(data, err)
	}
	if len(doc.Content) == 0 || isNull(doc.Content[0]) {
		d.errorf(&yaml.Node{Line: max(doc.Line, 1), Column: max(doc.Column, 1)}, "a technique file needs technique, tactic and scenarios; see docs/scenario-format.md", "file is empty")
		return nil
	}
	root := doc.Content[0]
	if bad, why := checkAliases(root); bad != nil {
		d.errorf(bad, "write the values out instead of aliasing them", "%s", why)
		return nil
	}
	return root
}

// maxFileSize bounds a technique file: one is a page of YAML, and a file
// of megabytes is a mistake (data or a build output in the tree) that
// yaml.v3 would spend seconds and much memory on.
const maxFileSize = 1 << 20

// binaryAt is the offset of the first byte no YAML text holds (NUL, or
// invalid UTF-8), -1 when there is none.
func binaryAt(data []byte) int {
	if i := bytes.IndexByte(data, 0); i >= 0 {
		return i
	}
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return -1
}

func (d *decoder) yamlError(data []byte, err error) {
	// yaml.v3 reports a line but no column for syntax errors.
	line, msg := yamlsyntax.Locate(data, err)
	p := Problem{File: d.path, Line: line, Msg: "YAML syntax: " + msg, Hint: "fix the YAML"}
	if line > 0 {
		p.Column = 1
	}
	// yaml.v3 names the line before the tab's ("found a tab character that
	// violates indentation" at line 4 for a tab opening line 5).
	if strings.Contains(msg, "tab character") {
		if tl, tc := indentTab(data); tl > 0 {
			p.Line, p.Column = tl, tc
			p.Msg, p.Hint = "YAML syntax: this line is indented with a tab", "indent with spaces: YAML forbids tabs in indentation"
		}
	}
	d.problems = append(d.problems, p)
}

// indentTab is the line and column (1-based) of the first tab in a line's
// leading whitespace; 0, 0 when there is none.
func indentTab(data []byte) (line, col int) {
	for i, l := range strings.Split(string(data), "\n") {
		indent := l[:len(l)-len(strings.TrimLeft(l, " \t"))]
		if c := strings.IndexByte(indent, '\t'); c >= 0 {
			return i + 1, c + 1
		}
	}
	return 0, 0
}

func (d *decoder) file(root *yaml.Node) *File {
	root = deref(root)
	pairs, ok := d.mapping(root, "a technique file", fileKeys)
	if !ok {
		return nil
	}
	f := &File{Path: d.path}
	var techNode, tacticNode, scenariosNode *yaml.Node
	for _, p := range pairs {
		switch p.name() {
		case "technique":
			techNode = p.val
			if s, ok := d.str(p.val, "technique", "write an ATT&CK id like T1490"); ok {
				f.Technique = attack.TechniqueID(strings.TrimSpace(s))
			}
		case "tactic":
			tacticNode = p.val
			if s, ok := d.str(p.val, "tactic", "write the tactic's short name, like impact"); ok {
				f.Tactic = attack.Tactic(strings.TrimSpace(s))
			}
		case "name":
			if s, ok := d.str(p.val, "name", "write the technique's name, or drop the key to use ATT&CK's"); ok {
				f.Name = s
			}
		case "scenarios":
			scenariosNode = p.val
		}
	}
	if techNode == nil {
		d.errorf(root, "add technique: with an ATT&CK id like T1490", "missing key \"technique\"")
	}
	tech := d.checkTechnique(f, techNode, tacticNode)
	if tacticNode == nil {
		hint := "add tactic: with one of the technique's tactics, like impact"
		if tech != nil {
			hint = fmt.Sprintf("add tactic: with one of %s's tactics: %s", tech.ID, joinTactics(tech.Tactics))
		}
		d.errorf(root, hint, "missing key \"tactic\"")
	}
	if f.Name == "" && tech != nil {
		f.Name = tech.Name
	}
	if scenariosNode == nil {
		d.errorf(root, "add scenarios: with at least one scenario", "missing key \"scenarios\"")
		return f
	}
	seq := deref(scenariosNode)
	if seq.Kind != yaml.SequenceNode {
		d.errorf(seq, "write a list: each scenario starts with - id: ...", "scenarios must be a list, not %s", describe(seq))
		return f
	}
	if len(seq.Content) == 0 {
		d.errorf(seq, "add at least one scenario", "scenarios is empty")
	}
	for i, n := range seq.Content {
		if s := d.scenarioNode(f, i+1, deref(n)); s != nil {
			f.Scenarios = append(f.Scenarios, s)
		}
	}
	return f
}

// checkTechnique checks the technique id and the tactic against ATT&CK and
// returns the technique when it is known.
func (d *decoder) checkTechnique(f *File, techNode, tacticNode *yaml.Node) *attack.Technique {
	if techNode == nil || f.Technique == "" {
		d.checkTacticAlone(f, tacticNode, nil)
		return nil
	}
	tech, ok := attack.Lookup(f.Technique)
	if !ok {
		var ue *attack.UnknownTechniqueError
		err := f.Technique.Validate()
		errors.As(err, &ue)
		var successor *attack.Technique
		if ue != nil {
			successor = ue.Successor
		}
		d.checkTacticAlone(f, tacticNode, successor)
		switch {
		case ue != nil && ue.Malformed:
			d.errorf(techNode, "ids look like T1490 or T1003.008", "%q is not an ATT&CK technique id", string(f.Technique))
		case successor != nil:
			write := "technique: " + string(successor.ID)
			if !successor.HasTactic(f.Tactic) && f.Tactic.Known() {
				write += " and tactic: " + string(successor.Tactics[0])
			}
			d.errorf(techNode, fmt.Sprintf("write %s and move the file to scenarios/%s/%s.yaml", write, successor.Tactics[0], successor.ID),
				"technique %s is not in ATT&CK as of %s: this release renumbered it %s %q", f.Technique, attack.ReleaseDate(), successor.ID, successor.Name)
		case ue != nil && len(ue.Suggestions) > 0:
			d.errorf(techNode, "close ids: "+describeTechniques(ue.Suggestions), "technique %s is not in ATT&CK as of %s", f.Technique, attack.ReleaseDate())
		default:
			d.errorf(techNode, "check the id against ATT&CK Enterprise", "technique %s is not in ATT&CK as of %s", f.Technique, attack.ReleaseDate())
		}
		return nil
	}
	if tech.Deprecated {
		d.warnf(techNode, "move the scenarios to the technique that replaced it", "technique %s %q is deprecated in ATT&CK", tech.ID, tech.Name)
	}
	if tacticNode == nil || f.Tactic == "" {
		return &tech
	}
	tactics := joinTactics(tech.Tactics)
	switch err := attack.CheckTactic(f.Technique, f.Tactic); {
	case err == nil:
	case !f.Tactic.Known():
		d.unknownTactic(f, tacticNode, &tech, "")
	default:
		var me *attack.TacticMismatchError
		hint := "use one of " + tactics
		if errors.As(err, &me) && len(me.Want) == 1 {
			hint = fmt.Sprintf("set tactic: %s and move the file under %s/", me.Want[0], me.Want[0])
		}
		d.errorf(tacticNode, hint, "%v", err)
	}
	return &tech
}

// checkTacticAlone checks a tactic when the technique is unknown, so that
// both problems are reported at once; successor is the technique that
// replaced it, when this release renumbered it.
func (d *decoder) checkTacticAlone(f *File, tacticNode *yaml.Node, successor *attack.Technique) {
	if tacticNode == nil || f.Tactic == "" || f.Tactic.Known() {
		return
	}
	d.unknownTactic(f, tacticNode, successor, string(f.Technique))
}

// unknownTactic reports a tactic this release does not know. tech is the
// file's technique (or the one that replaced it, named replaced), nil when
// unknown: the hint then names the tactic to write.
func (d *decoder) unknownTactic(f *File, tacticNode *yaml.Node, tech *attack.Technique, replaced string) {
	split := f.Tactic.SplitInto()
	if split == nil {
		hint := "tactics: " + joinTactics(attack.Tactics())
		if tech != nil {
			hint = fmt.Sprintf("%s belongs to %s", tech.ID, joinTactics(tech.Tactics))
		}
		d.errorf(tacticNode, hint, "tactic %q is not in ATT&CK as of %s", string(f.Tactic), attack.ReleaseDate())
		return
	}
	hint := "pick the one the technique belongs to: " + joinTactics(split)
	if tech != nil {
		who := string(tech.ID)
		if replaced != "" {
			who = fmt.Sprintf("%s, which replaced %s,", tech.ID, replaced)
		}
		var in []attack.Tactic
		for _, t := range split {
			if tech.HasTactic(t) {
				in = append(in, t)
			}
		}
		switch len(in) {
		case 1:
			hint = fmt.Sprintf("%s belongs to %s: write tactic: %s", who, in[0], in[0])
		default:
			hint = fmt.Sprintf("%s belongs to %s", who, joinTactics(tech.Tactics))
		}
	}
	d.errorf(tacticNode, hint, "%s", attack.SplitMessage(f.Tactic, split))
}

func describeTechniques(ts []attack.Technique) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = fmt.Sprintf("%s %q", t.ID, t.Name)
	}
	return strings.Join(s, ", ")
}

func joinTactics(ts []attack.Tactic) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = string(t)
	}
	return strings.Join(s, ", ")
}

func (d *decoder) scenarioNode(f *File, index int, n *yaml.Node) *Scenario {
	d.scenario, d.where = "", fmt.Sprintf("scenario %d", index)
	defer func() { d.scenario, d.where = "", "" }()
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "each scenario is a mapping starting with - id: ...", "scenario must be a mapping, not %s", describe(n))
		return nil
	}
	// Read the id first, so that every problem of the scenario names it.
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := deref(n.Content[i]); k.Kind == yaml.ScalarNode && k.Value == "id" {
			if v := deref(n.Content[i+1]); v.Kind == yaml.ScalarNode && !isNull(v) && v.Value != "" {
				d.scenario, d.where = v.Value, ""
			}
		}
	}
	pairs, _ := d.mapping(n, "a scenario", scenarioKeys)
	has := map[string]*yaml.Node{}
	for i := 0; i < len(n.Content); i += 2 {
		if k := deref(n.Content[i]); closest(k.Value, []string{"expect", "forbid"}) != "" && !slices.Contains(scenarioKeys, k.Value) {
			has[unsure] = k
		}
	}
	s := &Scenario{
		File: f.Path, Line: n.Line, Column: n.Column,
		Technique: f.Technique, Tactic: f.Tactic, TechniqueName: f.Name,
		Timeout: DefaultScenarioTimeout,
	}
	for _, p := range pairs {
		has[p.name()] = p.val
		switch p.name() {
		case "id":
			d.readID(s, p.val)
		case "description":
			s.Description, _ = d.str(p.val, "description", "describe what the scenario does, or drop the key")
		case "skip":
			const hint = `give the reason it cannot run here, like "needs Kubernetes", or drop the key`
			if why, ok := d.str(p.val, "skip", hint); ok {
				if strings.TrimSpace(why) == "" {
					d.errorf(p.val, hint, "skip is empty")
				} else {
					s.Skip = strings.TrimSpace(why)
				}
			}
		case "victim":
			s.Victim = d.victim(p.key, p.val)
		case "forbid_others":
			s.ForbidOthers, _ = d.boolean(p.val, "forbid_others")
		case "benign":
			var ok bool
			if s.Benign, ok = d.boolean(p.val, "benign"); !ok {
				// Whether it must expect or forbid is unknown: say only
				// what is wrong with benign itself.
				delete(has, "benign")
				has[unsure] = p.val
			}
		case "user":
			s.User, _ = d.user(p.val, "user")
		case "env":
			s.Env = d.env(p.val)
		case "workdir":
			if w, ok := d.str(p.val, "workdir", "give an absolute path like /tmp"); ok {
				if !strings.HasPrefix(w, "/") {
					d.errorf(p.val, "give an absolute path like /tmp", "workdir %q is not an absolute path", w)
				} else {
					s.Workdir = w
				}
			}
		case "timeout":
			if v, ok := d.duration(p.val, "timeout"); ok {
				s.Timeout = v
			}
		case "setup":
			s.Setup = d.steps(p.val, "setup", "setup step")
		case "steps":
			s.Steps = d.steps(p.val, "steps", "step")
		case "cleanup":
			s.Cleanup = d.steps(p.val, "cleanup", "cleanup step")
		case "expect":
			s.Expect = d.matchers(p.val, "expect")
		case "forbid":
			s.Forbid = d.matchers(p.val, "forbid")
		}
	}
	if _, ok := has["id"]; !ok {
		d.errorf(n, "add id: a-unique-name (lower-case letters, digits, hyphens)", "missing key \"id\"")
	}
	if v, ok := has["steps"]; !ok {
		d.errorf(n, "add steps: with the commands that emulate the technique", "missing key \"steps\"")
	} else if isNull(v) || (v.Kind == yaml.SequenceNode && len(v.Content) == 0) {
		d.errorf(v, "add the commands that emulate the technique", "steps is empty")
	}
	d.checkScenario(s, n, has)
	return s
}

func (d *decoder) readID(s *Scenario, n *yaml.Node) {
	const hint = "use lower-case letters, digits and hyphens, starting with a letter or digit"
	id, ok := d.str(n, "id", hint)
	if !ok {
		return
	}
	if !idPattern.MatchString(id) {
		h := hint
		if slug := slugify(id); slug != "" {
			h = fmt.Sprintf("%s, like %q", hint, slug)
		}
		d.errorf(n, h, "id %q is not valid", id)
	}
	s.ID = id
}

// slugify suggests a valid id for an invalid one.
func slugify(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case b.Len() > 0 && !dash:
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

func (d *decoder) user(n *yaml.Node, what string) (string, bool) {
	const hint = "give a user name or uid, optionally with :group, like analyst or 1000:1000"
	u, ok := d.str(n, what, hint)
	if !ok {
		return "", false
	}
	if !userPattern.MatchString(u) {
		d.errorf(n, hint, "%s %q is not a user name or uid", what, u)
		return "", false
	}
	return u, true
}

func (d *decoder) env(n *yaml.Node) map[string]string {
	pairs, ok := d.stringMap(n, "env")
	if !ok {
		return nil
	}
	env := make(map[string]string, len(pairs))
	for _, p := range pairs {
		name := p.name()
		switch {
		case !envNamePattern.MatchString(name):
			d.errorf(p.key, "use letters, digits and underscores, not starting with a digit", "env name %q is not a valid variable name", name)
			continue
		case strings.HasPrefix(strings.ToUpper(name), reservedEnvPrefix):
			d.errorf(p.key, "rename it: the harness sets AR_* variables to attribute alerts", "env name %q is reserved for the harness", name)
			continue
		}
		v, ok := d.str(p.val, fmt.Sprintf("env %s", name), `give a value; write "" for an empty one`)
		if !ok {
			continue
		}
		env[name] = v
	}
	return env
}

// steps reads setup, steps or cleanup: a list of commands, each a plain
// string or a step mapping (run, exec or sleep, and its options). "steps is
// empty" is reported by the caller.
func (d *decoder) steps(n *yaml.Node, key, label string) []Step {
	return decodeList(d, n, key, label, "write a list: - command, or - run: command", func(c *yaml.Node) (Step, bool) {
		return d.step(c, key)
	})
}

// decodeList reads a list whose items are decoded by item, placing each
// item's problems at "<label> <n>". A null list is empty.
func decodeList[T any](d *decoder, n *yaml.Node, key, label, hint string, item func(*yaml.Node) (T, bool)) []T {
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, hint, "%s must be a list, not %s", key, describe(n))
		return nil
	}
	var out []T
	saved := d.where
	for i, c := range n.Content {
		c = deref(c)
		d.where = fmt.Sprintf("%s %d", label, i+1)
		d.remember(c)
		if v, ok := item(c); ok {
			out = append(out, v)
		}
	}
	d.where = saved
	return out
}

// stepKinds are the keys that say what a step does; a step has exactly one.
var stepKinds = []string{"run", "exec", "sleep"}

func (d *decoder) step(n *yaml.Node, phase string) (Step, bool) {
	st := Step{Line: n.Line, Column: n.Column, Timeout: DefaultStepTimeout}
	const runHint = "give the shell command to run"
	if n.Kind == yaml.ScalarNode {
		run, ok := d.str(n, "command", runHint)
		if ok && strings.TrimSpace(run) == "" {
			d.errorf(n, runHint, "command is empty")
			return st, false
		}
		st.Run = run
		return st, ok
	}
	pairs, ok := d.mapping(n, "a step", stepKeys)
	if !ok {
		return st, false
	}
	var kind *pair
	var options []pair // keys that only a run or exec step takes
	var exitKey, mustKey *yaml.Node
	mustSucceed := false
	for i, p := range pairs {
		if slices.Contains(stepKinds, p.name()) {
			if kind != nil {
				d.errorf(p.key, "split it into two steps", "a step does one thing: it has both %s and %s", kind.name(), p.name())
				ok = false
				continue
			}
			kind = &pairs[i]
		} else {
			options = append(options, p)
		}
		switch p.name() {
		case "run":
			if run, good := d.str(p.val, "run", runHint); good {
				if strings.TrimSpace(run) == "" {
					d.errorf(p.val, runHint, "run is empty")
					ok = false
				}
				st.Run = run
			} else {
				ok = false
			}
		case "exec":
			argv, good := d.argv(p.val)
			st.Exec, ok = argv, ok && good
		case "sleep":
			v, good := d.sleep(p.val)
			st.Sleep, ok = v, ok && good
		case "tty":
			st.TTY, _ = d.boolean(p.val, "tty")
		case "exit":
			exitKey = p.key
			if phase == "cleanup" {
				d.errorf(p.key, "drop exit: cleanup failures are reported, never judged", "exit has no effect in cleanup")
				continue
			}
			st.Exit, _ = d.exitCodes(p.val)
		case "timeout":
			if v, good := d.duration(p.val, "timeout"); good {
				st.Timeout = v
			}
		case "must_succeed":
			mustKey = p.key
			v, good := d.boolean(p.val, "must_succeed")
			switch {
			case !good:
			case phase == "setup" && !v:
				d.errorf(p.key, "drop must_succeed: a failed setup step always makes the scenario an error", "setup steps always must succeed")
			case phase == "cleanup":
				d.errorf(p.key, "drop must_succeed: cleanup failures are reported, never judged", "must_succeed has no effect in cleanup")
			default:
				mustSucceed = v
			}
		case "user":
			st.User, _ = d.user(p.val, "user")
		}
	}
	if kind == nil {
		d.errorf(n, "give a shell command in run:, an argv in exec: [program, args...], or a wait in sleep: 5s", `missing key "run", "exec" or "sleep"`)
		return st, false
	}
	if kind.name() == "sleep" {
		for _, o := range options {
			d.errorf(o.key, "drop it: a sleep step only waits, it runs nothing", "%s has no effect on a sleep step", o.name())
		}
		st.Timeout = 0
	}
	if exitKey != nil && mustKey != nil {
		d.errorf(mustKey, "keep exit: must_succeed: true is short for exit: 0", "must_succeed and exit both say how the step must end")
	} else if mustSucceed {
		st.Exit = []int{0}
	}
	return st, ok
}

// argv reads an exec step's argument vector: a list of non-empty values.
func (d *decoder) argv(n *yaml.Node) ([]string, bool) {
	const hint = "write exec: [program, arg, ...], or use run: for a shell command"
	if n.Kind != yaml.SequenceNode {
		if isNull(n) {
			d.errorf(n, hint, "exec is empty")
		} else {
			d.errorf(n, hint, "exec must be a list (the argv), not %s", describe(n))
		}
		return nil, false
	}
	if len(n.Content) == 0 {
		d.errorf(n, hint, "exec is empty")
		return nil, false
	}
	argv := make([]string, 0, len(n.Content))
	ok := true
	for i, c := range n.Content {
		c = deref(c)
		what := fmt.Sprintf("exec argument %d", i+1)
		a, good := d.str(c, what, `give a value; quote it like "" only when the program takes an empty argument`)
		switch {
		case !good:
			ok = false
		case i == 0 && strings.TrimSpace(a) == "":
			d.errorf(c, "name the program to run first", "exec program is empty")
			ok = false
		}
		argv = append(argv, a)
	}
	return argv, ok
}

// sleep reads a sleep step's wait: a duration between MinSleep and MaxSleep.
func (d *decoder) sleep(n *yaml.Node) (time.Duration, bool) {
	v, ok := d.duration(n, "sleep")
	if !ok {
		return 0, false
	}
	if v < MinSleep || v > MaxSleep {
		d.errorf(n, fmt.Sprintf("sleep between %s and %s", MinSleep, MaxSleep), "sleep %s is out of range", v)
		return 0, false
	}
	return v, true
}

// exitCodes reads exit: one status or a non-empty list of distinct ones,
// each 0 to 255.
func (d *decoder) exitCodes(n *yaml.Node) ([]int, bool) {
	const hint = "write an exit status 0 to 255, or a list like [0, 1]"
	one := func(c *yaml.Node) (int, bool) {
		var v int
		if c.Kind != yaml.ScalarNode || c.Tag != "!!int" || c.Decode(&v) != nil {
			d.errorf(c, hint, "exit status must be a whole number, not %s", describe(c))
			return 0, false
		}
		if v < 0 || v > 255 {
			d.errorf(c, hint, "exit status %d is out of range", v)
			return 0, false
		}
		return v, true
	}
	if n.Kind != yaml.SequenceNode {
		v, ok := one(n)
		if !ok {
			return nil, false
		}
		return []int{v}, true
	}
	if len(n.Content) == 0 {
		d.errorf(n, hint, "exit is an empty list")
		return nil, false
	}
	var codes []int
	ok := true
	for _, c := range n.Content {
		c = deref(c)
		v, good := one(c)
		switch {
		case !good:
			ok = false
		case slices.Contains(codes, v):
			d.errorf(c, "keep one", "exit status %d appears twice", v)
			ok = false
		default:
			codes = append(codes, v)
		}
	}
	return codes, ok && len(codes) > 0
}

// matchers reads expect or forbid.
func (d *decoder) matchers(n *yaml.Node, key string) []Matcher {
	return decodeList(d, n, key, key, "write a list: - rule: ...", func(c *yaml.Node) (Matcher, bool) {
		return d.matcher(c, key)
	})
}

func (d *decoder) matcher(n *yaml.Node, key string) (Matcher, bool) {
	m := Matcher{Line: n.Line, Column: n.Column}
	if key == "expect" {
		m.Min = 1
	}
	pairs, ok := d.mapping(n, "a matcher", matcherKeys)
	if !ok {
		return m, false
	}
	hasRule := false
	var minNode, maxNode *yaml.Node
	for _, p := range pairs {
		switch p.name() {
		case "rule":
			hasRule = true
			r, good := d.str(p.val, "rule", `name a rule, or "*" for any candidate rule`)
			if good && strings.TrimSpace(r) == "" {
				d.errorf(p.val, `name a rule, or "*" for any candidate rule`, "rule is empty")
				good = false
			}
			ok = ok && good
			m.Rule = r
		case "priority":
			if s, good := d.str(p.val, "priority", "use one of EMERGENCY, ALERT, CRITICAL, ERROR, WARNING, NOTICE, INFORMATIONAL, DEBUG"); good {
				if pr, err := rules.ParsePriority(s); err != nil {
					d.errorf(p.val, "use one of EMERGENCY, ALERT, CRITICAL, ERROR, WARNING, NOTICE, INFORMATIONAL, DEBUG", "unknown priority %q", s)
				} else {
					m.Priority = &pr
				}
			}
		case "output":
			if tm, good := d.textMatch(p.val, "output", Contains); good {
				m.Output = &tm
			}
		case "fields":
			m.Fields = d.fieldMatches(p.val)
		case "tags":
			m.Tags = d.tags(p.val)
		case "min":
			minNode = p.key
			if v, good := d.count(p.val, "min"); good {
				m.Min = v
			}
		case "max":
			maxNode = p.key
			if v, good := d.count(p.val, "max"); good {
				m.Max = &v
			}
		}
	}
	if !hasRule {
		d.errorf(n, `add rule: with a rule name, or "*" for any candidate rule`, "missing key \"rule\"")
		ok = false
	}
	if key == "forbid" {
		for _, k := range []*yaml.Node{minNode, maxNode} {
			if k != nil {
				d.errorf(k, "a forbid matcher must match no alert at all; to bound a count use expect with min and max", "%s is not allowed in forbid", k.Value)
			}
		}
		m.Min, m.Max = 0, nil
		return m, ok
	}
	switch {
	case m.Max != nil && *m.Max < m.Min:
		d.errorf(maxNode, "make max at least min", "max %d is less than min %d", *m.Max, m.Min)
	case m.Max == nil && m.Min == 0 && minNode != nil:
		d.errorf(minNode, "set max to bound the count, or remove the matcher", "min: 0 with no max accepts any number of alerts, so it checks nothing")
	}
	return m, ok
}

// textMatch reads a plain value (compared with plain) or one of
// {equals: v}, {contains: v}, {regex: v}.
func (d *decoder) textMatch(n *yaml.Node, what string, plain MatchKind) (TextMatch, bool) {
	const hint = "write a value, or one of {equals: ...}, {contains: ...}, {regex: ...}"
	if n.Kind != yaml.MappingNode {
		v, ok := d.str(n, what, hint+`; for a missing value write "<NA>"`)
		return TextMatch{Kind: plain, Value: v}, ok
	}
	pairs, ok := d.mapping(n, what, textMatchKeys)
	if !ok {
		return TextMatch{}, false
	}
	switch len(pairs) {
	case 0:
		if len(n.Content) == 0 {
			d.errorf(n, hint, "%s is an empty mapping", what)
		}
		return TextMatch{}, false
	case 1:
	default:
		d.errorf(pairs[1].key, "keep one", "%s gives both %s and %s", what, pairs[0].name(), pairs[1].name())
		return TextMatch{}, false
	}
	p := pairs[0]
	kind := MatchKind(p.name())
	v, ok := d.str(p.val, fmt.Sprintf("%s %s", what, kind), `give a value; for a missing value write "<NA>"`)
	if !ok {
		return TextMatch{}, false
	}
	tm := TextMatch{Kind: kind, Value: v}
	if kind == Regex {
		re, err := regexp.Compile(v)
		if err != nil {
			d.errorf(p.val, "write an RE2 regular expression (https://github.com/google/re2/wiki/Syntax)", "regex %q does not compile: %s", v, regexProblem(err))
			return TextMatch{}, false
		}
		tm.Re = re
	}
	return tm, true
}

// regexProblem says what is wrong with a regex without repeating it.
func regexProblem(err error) string {
	var se *syntax.Error
	if errors.As(err, &se) {
		return fmt.Sprintf("%s in %q", se.Code, se.Expr)
	}
	return err.Error()
}

func (d *decoder) fieldMatches(n *yaml.Node) []FieldMatch {
	pairs, ok := d.stringMap(n, "fields")
	if !ok {
		return nil
	}
	var out []FieldMatch
	for _, p := range pairs {
		name := p.name()
		if !fieldPattern.MatchString(name) {
			d.errorf(p.key, "write a Falco field name like proc.name or proc.env[HOME]", "field name %q is not a Falco field", name)
			continue
		}
		tm, ok := d.textMatch(p.val, fmt.Sprintf("field %s", name), Equals)
		if !ok {
			continue
		}
		out = append(out, FieldMatch{Field: name, TextMatch: tm, Line: p.key.Line, Column: p.key.Column})
	}
	return out
}

func (d *decoder) tags(n *yaml.Node) []string {
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, "write a list: tags: [T1490]", "tags must be a list, not %s", describe(n))
		return nil
	}
	var out []string
	for _, c := range n.Content {
		c = deref(c)
		if t, ok := d.str(c, "tag", "write the tag as the rule spells it"); ok {
			out = append(out, t)
		}
	}
	return out
}
