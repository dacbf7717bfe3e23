// Package victim is a testcontainers module for the container a scenario attacks: one fresh
// victim per scenario, started from the image fixtures/victim builds (the default image or the
// tools image), with the widest privileges the engine grants, an init process so removal is
// instant, and the attack-replay labels that let Sweep remove whatever a run leaves behind.
//
// A victim can be shaped: capabilities added or dropped, a read-only root, /etc/hosts entries,
// a network mode. What the engine refuses (a capability outside its runtime's bounding set) is
// an error naming it (ErrRefused), never a victim silently lacking it.
//
// Container.Exec runs a step through the Docker exec API with its own user, environment,
// working directory, timeout and, when asked, a terminal; it returns stdout and stderr
// separately, and kills the step's whole process tree when the timeout passes or the context
// ends. No shell is added: an argv exec'd this way has the runtime as its parent.
//
// ProbeGrant answers, for the doctor, what the engine grants without starting a victim:
// whether privileged containers start and, where not, which capabilities it refuses.
package victim
