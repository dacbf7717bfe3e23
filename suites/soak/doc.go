// Package soak proves the rules suite under faults: it runs suites/techniques against a
// stand-in Falco (harness/falco/falcotest) many times, each run with one injected fault (a
// failing scenario, a hanging step, 100 MB of output, a panic after a verdict, SIGINT at a
// random moment, SIGTERM, Falco killed or paused, a victim killed mid-step, a slow Docker
// engine), and checks after each run that the exit status is the documented one, that the
// reports exist or the output says why, that nothing is left behind, and that the run ended
// within its timeout + 10 s. It prints one table: fault, runs, correct exits, leaks, longest run.
//
// The stand-in cannot see execs in other containers, so it never answers a victim's barrier
// marker by itself: a relay here watches the engine's exec events of the run's victims and
// asks the stand-in (falco standin-ctl barrier) to raise the barrier alert each marker
// would have raised. The stand-in raises no rule alert, so a scenario that expects one fails.
//
// TestSoakMixed10 (part of `make test`) runs 10 mixed runs; TestSoak (build tag soak,
// `make soak`) runs SOAK_RUNS (default 100). SOAK_SEED replays an order.
package soak
