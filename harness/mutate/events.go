package mutate

import (
	"path"
	"strconv"
	"strings"

	"github.com/attack-replay/attack-replay/harness/condition"
	"github.com/attack-replay/attack-replay/harness/scenario"
)

// loginuidUnset is the login uid of a process no login session started:
// every docker exec, so every step unless it sets its own (rules/impact.yaml:
// "It is unset (-1) for services, cron and a plain `docker exec`").
const loginuidUnset = "-1"

// setuidRoot are the setuid-root programs of the victim images (Debian's
// util-linux mount and umount, sudo, su, passwd): Falco's user.uid is the
// effective uid after the execve, so it shows root for them whoever ran
// them (rules/impact.yaml says where that comes from).
var setuidRoot = map[string]bool{"mount": true, "umount": true, "sudo": true, "su": true, "passwd": true, "chsh": true, "chfn": true, "newgrp": true, "gpasswd": true}

// builtins are the commands of the victims' /bin/sh (dash) that run in the
// shell itself: no execve, no event.
var builtins = map[string]bool{
	"echo": true, "printf": true, "cd": true, "export": true, "true": true, "false": true, ":": true,
	"test": true, "[": true, "set": true, "unset": true, "exit": true, "read": true, "umask": true,
	"wait": true, "shift": true, "local": true, "return": true, "kill": true, "type": true, "ulimit": true,
	"trap": true, "eval": true, "command": true, ".": true, "alias": true, "getopts": true, "hash": true,
}

// commNameMax is how much of a program's name Falco's proc.name keeps: the
// kernel's task comm, TASK_COMM_LEN 16 with its NUL.
const commNameMax = 15

// identity is who a process runs as.
type identity struct {
	name, uid, loginuid string // uid "" when unknown
}

// StepEvents are the execve events a scenario's step makes, as far as the
// step's text tells them, and what it leaves out.
type StepEvents struct {
	Step   int // 1-based within the steps phase
	Events []condition.Event
	// Unmodelled says what of the step's command could not be read
	// (command substitutions, compound commands): the processes it starts
	// are missing from Events.
	Unmodelled string
}

// Events synthesises the execve events of sc's steps: a run step is
// /bin/sh -c (the runner's, harness/runner) and each simple command it
// executes, an exec step its argv. Users come from the scenario and the
// step (root when none), their uids from the setup's useradd -u (Users); the login
// uid is unset unless the step writes /proc/self/loginuid first; a
// setuid-root program runs as root. Fields the text cannot tell are left
// out (unknown), not guessed: proc.pname of the shell, proc.exepath of a
// program found on PATH, fd.*, container.name.
func Events(sc *scenario.Scenario) []StepEvents {
	users := Users(sc)
	var out []StepEvents
	num := 0
	for i, st := range sc.Steps {
		if st.IsSleep() {
			continue
		}
		user := st.User
		if user == "" {
			user = sc.User
		}
		se := StepEvents{Step: i + 1}
		for _, ev := range stepEvents(st, who(user, users), users, &se.Unmodelled) {
			num++
			ev["evt.num"] = strconv.Itoa(num)
			se.Events = append(se.Events, ev)
		}
		out = append(out, se)
	}
	return out
}

// ExecEvents are the events of one exec the runner makes: run is a run
// step's command ("" for an exec step), argv an exec step's argv, user the
// exec's user ("" or "root" for root), users the uids by name (Users).
// Their evt.num count from 1: an exec knows nothing of the events before it,
// and a number is all a condition can ask of it (`evt.num = 0` is the
// never-true macro's).
func ExecEvents(run string, argv []string, user string, users map[string]string) []condition.Event {
	var unmodelled string
	evs := stepEvents(scenario.Step{Run: run, Exec: argv}, who(user, users), users, &unmodelled)
	for i, ev := range evs {
		ev["evt.num"] = strconv.Itoa(i + 1)
	}
	return evs
}

func who(user string, uids map[string]string) identity {
	if user == "" || user == "root" {
		return identity{name: "root", uid: "0", loginuid: loginuidUnset}
	}
	return identity{name: user, uid: uids[user], loginuid: loginuidUnset}
}

// Users are the uids by user name that the scenarios' setups give with
// `useradd -u UID NAME`, and root's.
func Users(scenarios ...*scenario.Scenario) map[string]string {
	uids := map[string]string{"root": "0"}
	for _, sc := range scenarios {
		addUsers(uids, sc)
	}
	return uids
}

func addUsers(uids map[string]string, sc *scenario.Scenario) {
	for _, st := range sc.Setup {
		for _, cmd := range commands(st.Run) {
			words := cmd.words
			if len(words) == 0 || path.Base(words[0]) != "useradd" {
				continue
			}
			uid := ""
			for j := 1; j < len(words); j++ {
				switch {
				case (words[j] == "-u" || words[j] == "--uid") && j+1 < len(words):
					uid = words[j+1]
					j++
				case j == len(words)-1 && !strings.HasPrefix(words[j], "-"):
					uids[words[j]] = uid
				}
			}
		}
	}
}

func stepEvents(st scenario.Step, id identity, users map[string]string, unmodelled *string) []condition.Event {
	if len(st.Exec) > 0 {
		return []condition.Event{execEvent(st.Exec, id, "")}
	}
	out := []condition.Event{execEvent([]string{"/bin/sh", "-c", st.Run}, id, "")}
	if strings.ContainsAny(st.Run, "`(){}") || strings.Contains(st.Run, "$(") {
		*unmodelled = "subshells, command substitutions and compound commands are not read: only the shell's own event is predicted"
		return out
	}
	for _, cmd := range commands(st.Run) {
		words := cmd.words
		if len(words) == 0 {
			continue
		}
		if cmd.loginuid != "" {
			id.loginuid = cmd.loginuid
		}
		for len(words) > 0 && words[0] == "exec" {
			words = words[1:]
		}
		if len(words) == 0 || builtins[words[0]] {
			continue
		}
		switch words[0] {
		case "if", "then", "else", "fi", "for", "while", "until", "do", "done", "case", "esac":
			*unmodelled = "compound commands are not read: only their simple commands' events are predicted"
			continue
		}
		out = append(out, execEvent(words, id, "sh"))
		if path.Base(words[0]) == "sudo" && len(words) > 1 {
			// sudo runs the command as root; the login uid survives.
			rest := words[1:]
			for len(rest) > 0 && strings.HasPrefix(rest[0], "-") {
				rest = rest[1:]
			}
			if len(rest) > 0 {
				out = append(out, execEvent(rest, identity{name: "root", uid: "0", loginuid: id.loginuid}, "sudo"))
			}
		}
		if path.Base(words[0]) == "setpriv" {
			// setpriv sets its uids and execs the command in the same process: the
			// command's parent is the shell's, and the login uid survives.
			if rest, uid, ok := setprivCommand(words[1:], users); ok {
				as := id
				if uid != "" {
					as = identity{name: nameOf(uid, users), uid: uid, loginuid: id.loginuid}
				}
				out = append(out, execEvent(rest, as, "sh"))
			}
		}
	}
	return out
}

// setprivArgOptions are the options of util-linux setpriv(1) that take a
// value as the next word.
var setprivArgOptions = map[string]bool{
	"--reuid": true, "--euid": true, "--ruid": true, "--regid": true, "--egid": true, "--rgid": true,
	"--groups": true, "--inh-caps": true, "--ambient-caps": true, "--bounding-set": true, "--securebits": true,
	"--pdeathsig": true, "--selinux-label": true, "--apparmor-profile": true, "--landlock-access": true, "--landlock-rule": true,
}

// setprivCommand splits setpriv's arguments into the command it execs and
// the real-and-effective uid it gives it ("" when unchanged); ok is false
// when no command follows the options.
func setprivCommand(args []string, users map[string]string) (cmd []string, uid string, ok bool) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return args[i+1:], uid, i+1 < len(args)
		}
		if !strings.HasPrefix(a, "-") {
			return args[i:], uid, true
		}
		name, value, inline := strings.Cut(a, "=")
		if !inline && setprivArgOptions[name] && i+1 < len(args) {
			i++
			value = args[i]
		}
		if name == "--reuid" || name == "--euid" {
			uid = value
			if _, err := strconv.Atoi(value); err != nil && users[value] != "" {
				uid = users[value] // setpriv takes a user name too
			}
		}
	}
	return nil, "", false
}

// nameOf is the user name of uid among users, or "<NA>" as Falco reports a
// uid it cannot name (fixtures/falco/FACTS.md).
func nameOf(uid string, users map[string]string) string {
	for name, u := range users {
		if u == uid {
			return name
		}
	}
	return "<NA>"
}

// execEvent is the execve exit event of argv as id, its parent named
// pname ("" when unknown).
func execEvent(argv []string, id identity, pname string) condition.Event {
	name := path.Base(argv[0])
	if len(name) > commNameMax {
		name = name[:commNameMax]
	}
	if setuidRoot[name] {
		id.name, id.uid = "root", "0"
	}
	args := strings.Join(argv[1:], " ")
	// container.id stands for the victim's id: what conditions ask of it
	// is that it is not "host".
	ev := condition.Event{
		"evt.type": "execve", "evt.dir": "<", "container.id": "victim",
		"proc.name": name, "proc.exe": argv[0], "proc.args": args,
		"proc.cmdline": strings.TrimSpace(name + " " + args),
		"user.name":    id.name, "user.loginuid": id.loginuid,
	}
	if id.uid != "" {
		ev["user.uid"] = id.uid
	}
	if pname != "" {
		ev["proc.pname"] = pname
	}
	if strings.HasPrefix(argv[0], "/") {
		ev["proc.exepath"] = argv[0]
	}
	return ev
}

// command is one simple command of a shell line: its words once quotes are
// removed, without assignments and redirections, and the login uid it
// writes (`echo N > /proc/self/loginuid`).
type command struct {
	words    []string
	loginuid string
}

// commands splits a shell command line into simple commands at ;, &, &&,
// ||, | and newlines, outside quotes.
func commands(line string) []command {
	var out []command
	var words []string
	var word strings.Builder
	inWord := false
	flushWord := func() {
		if inWord {
			words = append(words, word.String())
			word.Reset()
			inWord = false
		}
	}
	flushCmd := func() {
		flushWord()
		if len(words) > 0 {
			out = append(out, simple(words))
		}
		words = nil
	}
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '\'':
			j := strings.IndexByte(line[i+1:], '\'')
			if j < 0 {
				j = len(line) - i - 1
			}
			word.WriteString(line[i+1 : i+1+j])
			inWord = true
			i += j + 1
		case c == '"':
			inWord = true
			for i++; i < len(line) && line[i] != '"'; i++ {
				if line[i] == '\\' && i+1 < len(line) && strings.IndexByte("\"\\$`", line[i+1]) >= 0 {
					i++
				}
				word.WriteByte(line[i])
			}
		case c == '\\' && i+1 < len(line):
			i++
			if line[i] != '\n' {
				word.WriteByte(line[i])
				inWord = true
			}
		case c == '&' && inWord && i > 0 && (line[i-1] == '>' || line[i-1] == '<'):
			word.WriteByte(c) // 2>&1 duplicates a descriptor: no command ends here
		case c == ';' || c == '&' || c == '|' || c == '\n':
			flushCmd()
		case c == ' ' || c == '\t':
			flushWord()
		case c == '#' && !inWord:
			for i < len(line) && line[i] != '\n' {
				i++
			}
			flushCmd()
		default:
			word.WriteByte(c)
			inWord = true
		}
	}
	flushCmd()
	return out
}

// simple drops a command's leading assignments and its redirections, and
// notes a write of the login uid.
func simple(words []string) command {
	var cmd command
	for len(words) > 0 && isAssignment(words[0]) {
		words = words[1:]
	}
	for i := 0; i < len(words); i++ {
		w := words[i]
		op := strings.TrimLeft(w, "0123456789")
		if !strings.HasPrefix(op, ">") && !strings.HasPrefix(op, "<") {
			cmd.words = append(cmd.words, w)
			continue
		}
		target := strings.TrimLeft(op, "<>&")
		if target == "" && i+1 < len(words) && !strings.HasSuffix(op, "&") {
			i++
			target = words[i]
		}
		if target == "/proc/self/loginuid" && len(cmd.words) == 2 && cmd.words[0] == "echo" {
			cmd.loginuid = cmd.words[1]
		}
	}
	return cmd
}

func isAssignment(w string) bool {
	eq := strings.IndexByte(w, '=')
	if eq <= 0 {
		return false
	}
	for _, c := range w[:eq] {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
