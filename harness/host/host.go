package host

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// BTFPath is where a kernel built with CONFIG_DEBUG_INFO_BTF exposes its BTF; libbpf looks
// there first (libbpf src/btf.c, btf__load_vmlinux_btf) and the modern eBPF probe needs it
// (falco.org/docs/concepts/event-sources/kernel/#requirements).
const BTFPath = "/sys/kernel/btf/vmlinux"

// Unlimited is RLIM_INFINITY, a limit that is not one.
const Unlimited uint64 = math.MaxUint64

// Limit is a resource limit in bytes: the soft limit in force and the hard limit up to which
// an unprivileged process may raise it.
type Limit struct {
	Soft, Hard uint64
}

func (l Limit) String() string {
	return "soft " + FormatBytes(l.Soft) + ", hard " + FormatBytes(l.Hard)
}

// Cgroup is the cgroup hierarchy mounted on /sys/fs/cgroup.
type Cgroup string

// Cgroup hierarchies.
const (
	CgroupV2     Cgroup = "v2"     // unified: cgroup2 on /sys/fs/cgroup
	CgroupV1     Cgroup = "v1"     // legacy: a tmpfs of per-controller cgroup mounts
	CgroupHybrid Cgroup = "hybrid" // legacy controllers plus cgroup2 on /sys/fs/cgroup/unified
)

// Machine is the machine this process runs on. The zero value reads the real /proc and /sys.
type Machine struct{}

// KernelRelease is the running kernel's release, as `uname -r` prints it.
func (Machine) KernelRelease() (string, error) {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return "", fmt.Errorf("read kernel release: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// Exists tells whether path exists. A path that cannot be looked at (permissions) is an
// error, not an absence.
func (Machine) Exists(path string) (bool, error) {
	_, err := os.Stat(path)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	default:
		return false, fmt.Errorf("look at %s: %w", path, err)
	}
}

// Memlock is this process's RLIMIT_MEMLOCK. Containers inherit theirs from the engine's
// runtime, which on an ordinary host has the same systemd default.
func (Machine) Memlock() (Limit, error) { return memlock() }

// Cgroup tells which cgroup hierarchy is mounted on /sys/fs/cgroup.
func (Machine) Cgroup() (Cgroup, error) { return cgroupHierarchy() }

// FreeBytes is the space an unprivileged process may still use on the file system of path.
func (Machine) FreeBytes(path string) (uint64, error) { return freeBytes(path) }

// Kernel is a kernel version: the numbers at the start of a release.
type Kernel struct {
	Major, Minor, Patch int
}

func (k Kernel) String() string { return fmt.Sprintf("%d.%d.%d", k.Major, k.Minor, k.Patch) }

// AtLeast reports whether k is major.minor or newer.
func (k Kernel) AtLeast(major, minor int) bool {
	if k.Major != major {
		return k.Major > major
	}
	return k.Minor >= minor
}

var releaseRE = regexp.MustCompile(`^(\d+)\.(\d+)(?:\.(\d+))?`)

// ParseRelease reads the version at the start of a kernel release ("6.18.44-fc-v1147",
// "5.4.0-150-generic", "6.8").
func ParseRelease(release string) (Kernel, error) {
	m := releaseRE.FindStringSubmatch(strings.TrimSpace(release))
	if m == nil {
		return Kernel{}, fmt.Errorf("parse kernel release %q: want major.minor[.patch]", release)
	}
	var k Kernel
	k.Major, _ = strconv.Atoi(m[1])
	k.Minor, _ = strconv.Atoi(m[2])
	if m[3] != "" {
		k.Patch, _ = strconv.Atoi(m[3])
	}
	return k, nil
}

// FormatBytes prints a size in binary units ("8 MiB", "79.3 GiB"); Unlimited is "unlimited".
func FormatBytes(n uint64) string {
	if n == Unlimited {
		return "unlimited"
	}
	const unit = 1024
	if n < unit {
		return strconv.FormatUint(n, 10) + " B"
	}
	value, exp := float64(n), 0
	for value >= unit && exp < 5 {
		value /= unit
		exp++
	}
	s := strconv.FormatFloat(value, 'f', 1, 64)
	s = strings.TrimSuffix(s, ".0")
	return s + " " + string("KMGTPE"[exp-1]) + "iB"
}
