// Package host reads, without changing anything, what this machine's kernel offers Falco's
// modern eBPF probe: the kernel release, whether the kernel exposes BTF, the memlock limit,
// the cgroup hierarchy and free disk space. The doctor (harness/doctor) reports these facts;
// the Falco module's start-failure hint quotes them.
//
// Machine is the real machine; consumers declare the few methods they need as their own
// interface, so their tests can fake the states a test machine cannot show.
package host
