//go:build !linux

package host

import (
	"errors"
	"runtime"
)

// errNotLinux: Falco's probe runs on Linux; elsewhere the engine runs in a Linux VM whose
// facts this process cannot read.
var errNotLinux = errors.New("not Linux (" + runtime.GOOS + "): the Docker engine runs in a VM; run the doctor there")

func memlock() (Limit, error)          { return Limit{}, errNotLinux }
func cgroupHierarchy() (Cgroup, error) { return "", errNotLinux }
func freeBytes(string) (uint64, error) { return 0, errNotLinux }
