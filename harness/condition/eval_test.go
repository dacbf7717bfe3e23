package condition_test

import (
	"slices"
	"testing"

	"github.com/attack-replay/attack-replay/harness/condition"
)

func TestEval(t *testing.T) {
	ev := condition.Event{
		"evt.type": "execve", "evt.dir": "<", "proc.name": "rm", "proc.args": "-rf /tmp/x",
		"proc.cmdline": "rm -rf /tmp/x", "proc.exe": "/usr/bin/rm", "user.name": "root", "user.uid": "0",
		"user.loginuid": "-1", "proc.env[HOME]": "/root", "fd.name": "/etc/shadow",
	}
	for _, tc := range []struct {
		cond    string
		want    condition.Truth
		unknown []string
	}{
		{`evt.type in (execve, execveat) and evt.dir = <`, condition.True, nil},
		{`proc.name = rm and proc.args contains "-rf"`, condition.True, nil},
		{`proc.name = rm and proc.args contains "-fr"`, condition.False, nil},
		{`proc.name != rm`, condition.False, nil},
		{`proc.name == "rm"`, condition.True, nil},
		{`user.uid != 0 or user.loginuid > 0`, condition.False, nil},
		{`user.loginuid < 0 and user.uid <= 0 and user.uid >= 0`, condition.True, nil},
		{`user.uid = 0x0`, condition.True, nil},
		{`proc.exe startswith /usr/ and proc.exe endswith /rm`, condition.True, nil},
		{`proc.cmdline icontains "RM -RF"`, condition.True, nil},
		{`fd.name pmatch (/etc, /var/lib)`, condition.True, nil},
		{`fd.name pmatch (/et)`, condition.False, nil},
		{`fd.name glob "/etc/*"`, condition.True, nil},
		{`fd.name glob "/e?c/[!a]hadow"`, condition.True, nil},
		{`fd.name iglob "/ETC/*"`, condition.True, nil},
		{`fd.name glob "/etc/p*"`, condition.False, nil},
		{`proc.env[HOME] exists and not proc.env[PATH] exists`, condition.True, nil},
		{`tolower(proc.name) = rm and basename(proc.exe) = rm and len(proc.name) = 2`, condition.True, nil},
		{`proc.name = val(proc.name)`, condition.True, nil},
		{`proc.name intersects (rm, shred)`, condition.True, nil},
		// Unknown: never guessed true, reported by name.
		{`proc.pname = sh`, condition.Unknown, []string{"proc.pname"}},
		{`not proc.pname = sh`, condition.Unknown, []string{"proc.pname"}},
		{`proc.pname = sh and proc.name = cat`, condition.False, []string{"proc.pname"}},
		{`proc.pname = sh or proc.name = rm`, condition.True, []string{"proc.pname"}},
		{`proc.pname = sh or proc.aname[2] = bash`, condition.Unknown, []string{"proc.aname[2]", "proc.pname"}},
		{`spawned_process`, condition.Unknown, []string{"macro spawned_process"}},
		{`proc.name regex "r.*"`, condition.Unknown, []string{"regex"}},
		{`proc.name startswith anyof (r, s)`, condition.Unknown, []string{"anyof modifier"}},
		{`proc.name > 3`, condition.Unknown, []string{"> of a value that is not a number"}},
	} {
		e, err := condition.Parse(tc.cond)
		if err != nil {
			t.Fatalf("%s: %v", tc.cond, err)
		}
		got, unknown := condition.Eval(e, ev)
		if got != tc.want || !slices.Equal(unknown, tc.unknown) {
			t.Errorf("Eval(%s) = %s, unknown %q; want %s, unknown %q", tc.cond, got, unknown, tc.want, tc.unknown)
		}
	}
}
