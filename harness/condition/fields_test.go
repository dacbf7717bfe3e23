package condition

import "testing"

func TestFieldTable(t *testing.T) {
	ft := SyscallFields()
	if len(ft.Names()) < 250 {
		t.Fatalf("only %d syscall fields", len(ft.Names()))
	}
	for _, c := range []struct {
		src     string
		problem string
	}{
		{"proc.name = x", ""},
		{"proc.aname[2] = x", ""},
		{"proc.aname = x", ""},
		{"proc.env[AR_TOKEN] = x", ""},
		{"evt.arg.flags contains O_TRUNC", ""},
		{"evt.arg[0] = x", ""},
		{"evt.rawarg.res < 0", ""},
		{"evt.type.is.open = 1", ""},
		{"thread.cgroup.cpuacct = x", ""},
		{"container.mount.dest[/var/run/docker.sock] exists", ""},
		{"k8s.pod.label.app = x", ""},
		{"evt.abspath.dst = x", ""},
		{"container.id != host", ""},
		{"proc.nonexistent_field = foo", `unknown field "proc.nonexistent_field"`},
		{"proc.name.x = foo", `unknown field "proc.name.x"`},
		{"evt.count.foo = 1", `unknown field "evt.count.foo"`},
		{"proc.name[1] = foo", "field proc.name takes no argument in brackets: remove [1]"},
		{"evt.arg = x", "field evt.arg needs an argument: write evt.arg.NAME or evt.arg[ARG]"},
		{"container.mount.dest exists", "field container.mount.dest needs an argument: write container.mount.dest[ARG]"},
		{"thread.cgroup = x", "field thread.cgroup needs an argument: write thread.cgroup.NAME"},
	} {
		e, err := Parse(c.src)
		if err != nil {
			t.Fatal(err)
		}
		var f *Field
		Walk(e, func(n Node) bool {
			if x, ok := n.(*Field); ok && f == nil {
				f = x
			}
			return true
		})
		got, hint := ft.Problem(f)
		if hint != "" {
			got += ": " + hint
		}
		if got != c.problem {
			t.Errorf("%s: Problem = %q, want %q", c.src, got, c.problem)
		}
	}
	info, dotted, ok := ft.Lookup("evt.arg.res_or_fd")
	if !ok || info.Name != "evt.arg" || dotted != "res_or_fd" {
		t.Errorf("Lookup(evt.arg.res_or_fd) = %+v %q %v", info, dotted, ok)
	}
	if info, _, _ := ft.Lookup("container.name"); info.Plugin != "container" {
		t.Errorf("container.name comes from plugin %q, want container", info.Plugin)
	}
	for _, c := range []struct {
		s    string
		want int
	}{
		{"proc.name", 9}, {"proc.names", 9}, {"proc.aname[2] x", 10}, {"evt.arg.flags)", 7},
		{"evt.args", 8}, {"container.id", 12}, {"proc.nonexistent", 0}, {"x", 0}, {"", 0},
	} {
		if _, n := ft.OutputField(c.s); n != c.want {
			t.Errorf("OutputField(%q) = %d, want %d", c.s, n, c.want)
		}
	}
}
