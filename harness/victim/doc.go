// Package victim is a testcontainers module for the container a scenario attacks: one fresh
// victim per scenario, started from the image fixtures/victim builds, with the widest
// privileges the engine grants, an init process so removal is instant, and the attack-replay
// labels that let Sweep remove whatever a run leaves behind.
//
// Container.Exec runs a step through the Docker exec API with its own user, environment,
// working directory and timeout, returns stdout and stderr separately, and kills the step's
// whole process tree when the timeout passes or the context ends.
//
// ProbeGrant answers, for the doctor, what the engine grants without starting a victim:
// whether privileged containers start and, where not, which capabilities it refuses.
package victim
