package linux

import (
	"fmt"
	"slices"
	"strings"
)

// capabilities are the Linux capabilities in kernel order (linux/capability.h, up to
// CAP_CHECKPOINT_RESTORE = 40), without the CAP_ prefix, as Docker's CapAdd takes them.
var capabilities = []string{
	"CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID",
	"SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW",
	"IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
	"SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD",
	"LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG",
	"WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE",
}

// Capabilities returns every Linux capability name, without CAP_, in kernel order (the index
// is the capability's number).
func Capabilities() []string { return slices.Clone(capabilities) }

// ParseCapability turns "cap_sys_admin", "CAP_SYS_ADMIN" or "SYS_ADMIN" into "SYS_ADMIN", and
// rejects names that are not Linux capabilities.
func ParseCapability(name string) (string, error) {
	c := strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(name)), "CAP_")
	if !slices.Contains(capabilities, c) {
		return "", fmt.Errorf("capability %q is not a Linux capability (e.g. SYS_ADMIN, NET_ADMIN)", name)
	}
	return c, nil
}

// SortCapabilities orders capability names by number, the order the kernel and logs use, in
// place, and returns them.
func SortCapabilities(names []string) []string {
	slices.SortFunc(names, func(a, b string) int { return slices.Index(capabilities, a) - slices.Index(capabilities, b) })
	return names
}
