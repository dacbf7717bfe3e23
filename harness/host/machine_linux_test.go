package host

import (
	"bufio"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// The real machine, checked against independent sources: uname, the shell's ulimit,
// /proc/self/mountinfo and stat.

func TestMachineKernelRelease(t *testing.T) {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		t.Fatal(err)
	}
	want := unix.ByteSliceToString(u.Release[:])
	got, err := Machine{}.KernelRelease()
	if err != nil || got != want {
		t.Errorf("KernelRelease = %q, %v; uname says %q", got, err, want)
	}
}

func TestMachineExists(t *testing.T) {
	m := Machine{}
	if ok, err := m.Exists(t.TempDir()); !ok || err != nil {
		t.Errorf("Exists(temp dir) = %v, %v", ok, err)
	}
	if ok, err := m.Exists(t.TempDir() + "/absent"); ok || err != nil {
		t.Errorf("Exists(absent) = %v, %v", ok, err)
	}
	_, statErr := os.Stat(BTFPath)
	if ok, err := m.Exists(BTFPath); err != nil || ok != (statErr == nil) {
		t.Errorf("Exists(%s) = %v, %v; stat says %v", BTFPath, ok, err, statErr)
	}
}

func TestMachineMemlock(t *testing.T) {
	out, err := exec.Command("sh", "-c", "ulimit -S -l; ulimit -H -l").Output()
	if err != nil {
		t.Skipf("no shell to compare with: %v", err)
	}
	fields := strings.Fields(string(out))
	if len(fields) != 2 {
		t.Fatalf("ulimit printed %q", out)
	}
	kib := func(s string) uint64 {
		if s == "unlimited" {
			return Unlimited
		}
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("ulimit printed %q", s)
		}
		return n << 10
	}
	want := Limit{Soft: kib(fields[0]), Hard: kib(fields[1])}
	got, err := Machine{}.Memlock()
	if err != nil || got != want {
		t.Errorf("Memlock = %v, %v; ulimit says %v", got, err, want)
	}
	t.Logf("memlock: %v", got)
}

func TestMachineCgroup(t *testing.T) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		t.Skip(err)
	}
	defer f.Close()
	fsType := map[string]string{} // mount point → file system type
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// id parent major:minor root mountpoint options [optional...] - fstype source superoptions
		left, right, ok := strings.Cut(sc.Text(), " - ")
		if !ok {
			continue
		}
		lf, rf := strings.Fields(left), strings.Fields(right)
		if len(lf) >= 5 && len(rf) >= 1 {
			fsType[lf[4]] = rf[0]
		}
	}
	var want Cgroup
	switch {
	case fsType["/sys/fs/cgroup"] == "cgroup2":
		want = CgroupV2
	case fsType["/sys/fs/cgroup/unified"] == "cgroup2":
		want = CgroupHybrid
	case fsType["/sys/fs/cgroup"] == "tmpfs":
		want = CgroupV1
	default:
		t.Skipf("/sys/fs/cgroup is %q here", fsType["/sys/fs/cgroup"])
	}
	got, err := Machine{}.Cgroup()
	if err != nil || got != want {
		t.Errorf("Cgroup = %q, %v; mountinfo says %q", got, err, want)
	}
}

func TestMachineFreeBytes(t *testing.T) {
	dir := t.TempDir()
	got, err := Machine{}.FreeBytes(dir)
	if err != nil || got == 0 {
		t.Fatalf("FreeBytes = %d, %v", got, err)
	}
	out, err := exec.Command("df", "-B1", "--output=avail", dir).Output()
	if err != nil {
		t.Skipf("no df to compare with: %v", err)
	}
	fields := strings.Fields(string(out))
	want, err := strconv.ParseUint(fields[len(fields)-1], 10, 64)
	if err != nil {
		t.Fatalf("df printed %q", out)
	}
	// Other processes write meanwhile: agree within 1 %.
	if diff := max(got, want) - min(got, want); diff > want/100 {
		t.Errorf("FreeBytes = %d, df says %d", got, want)
	}
	if _, err := (Machine{}).FreeBytes(dir + "/absent"); err == nil {
		t.Error("FreeBytes of a missing path succeeded")
	}
}
