// Package runner replays scenarios against one alert hub with a pool of workers. Each attempt
// gets its own victim container: setup (then a barrier, so setup alerts cannot pass for the
// steps'), the steps, the barrier, the verdict, cleanup, removal. The barrier makes the alert
// set of an attempt final without sleeping: the marker command's alert can only arrive after
// every alert of the execs before it, because Falco handles events in order. Alerts that arrive
// later (cleanup, stragglers) are listed in the verdict, never judged.
//
// A step is a shell command (/bin/sh -c), an argv exec'd without a shell (its parent is the
// container runtime), with a terminal when it asks, or a sleep (no exec). Each scenario's victim
// is started in the shape it asks for (StartVictims: image alias, capabilities, privileges,
// /etc/hosts, read-only root, network); what the engine cannot give is an error, a refused
// privileged victim a note in the verdict. An attempt that ends in an error (a step that did not
// end the way the scenario declares: another exit status than its exit: lists, 126/127 without
// one, a timeout, a failed setup) stops at once, without barrier or cleanup: its victim is thrown
// away anyway. A skipped scenario is not run at all: its result is a skip verdict.
//
// Rehearse runs the same attempts without Falco (no hub, no barrier): the verdict says only
// whether every step ran as declared, for scenario authors where no Falco exists.
//
// Victims are started and removed off the workers' path, a pipeline: while the workers run
// attempts, preparers start the victims of the next ones in job order (at most Workers+1
// started ahead), and once an attempt is judged its worker takes the next prepared one while
// the engine removes the old victim (at most Workers removals pending). Every attempt still
// gets a fresh victim of its own scenario's shape, used by it alone; the scenario's timeout
// bounds its victim's start and the rest of the attempt together, the wait in between apart.
// Run returns only when every victim, used or not, is gone.
//
// Cancellation: when the context of Run ends, no new attempt starts, running steps are killed
// through their context, every victim is removed (those started ahead and never used too), and Run returns the results gathered so far
// with the context's error. A scenario whose attempts had not started is absent from the
// results (it did not run: reporting it as an error would blame the scenario); an attempt cut
// short is an Error verdict whose reason starts with "cancelled".
package runner
