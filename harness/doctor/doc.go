// Package doctor tells a user, before a first run, whether Falco will start on this host and
// what to do where it will not: the Docker engine and its version, whether --privileged is
// accepted (and which capabilities are missing where not), the kernel, BTF, the memlock limit
// and whether Falco can raise it, the Falco and victim images, the cgroup hierarchy and free
// disk. Every check is ok, warn, fail or skip (not checked, because one it depends on
// failed), with a fix; a run fails only on fail.
//
// The checks are data over two small interfaces, Host (this machine: harness/host answers)
// and Engine (the Docker engine: Docker answers), so tests fake the states a test machine
// cannot show. Nothing is changed: probe containers are labelled and removed, images are
// never pulled, every probe has a timeout. The fixes for driver failures are the ones the
// Falco module's start-failure hint gives (falco.DriverCause.Fix).
package doctor
