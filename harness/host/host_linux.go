package host

import (
	"fmt"

	"golang.org/x/sys/unix"
)

func memlock() (Limit, error) {
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_MEMLOCK, &rl); err != nil {
		return Limit{}, fmt.Errorf("read memlock limit: %w", err)
	}
	return Limit{Soft: rlim(rl.Cur), Hard: rlim(rl.Max)}, nil
}

func rlim(v uint64) uint64 {
	if v == unix.RLIM_INFINITY {
		return Unlimited
	}
	return v
}

func cgroupHierarchy() (Cgroup, error) {
	var st unix.Statfs_t
	if err := unix.Statfs("/sys/fs/cgroup", &st); err != nil {
		return "", fmt.Errorf("read cgroup mount: %w", err)
	}
	switch st.Type {
	case unix.CGROUP2_SUPER_MAGIC:
		return CgroupV2, nil
	case unix.TMPFS_MAGIC:
		var unified unix.Statfs_t
		if unix.Statfs("/sys/fs/cgroup/unified", &unified) == nil && unified.Type == unix.CGROUP2_SUPER_MAGIC {
			return CgroupHybrid, nil
		}
		return CgroupV1, nil
	}
	return "", fmt.Errorf("read cgroup mount: /sys/fs/cgroup is neither cgroup2 nor tmpfs (file system type %#x)", st.Type)
}

func freeBytes(path string) (uint64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return 0, fmt.Errorf("read free space of %s: %w", path, err)
	}
	return st.Bavail * uint64(st.Bsize), nil
}
