// Package verdict judges the alerts of one scenario attempt against its expectations and holds
// the resulting verdict.
//
// Judge is pure. Only alerts of the steps phase are judged; setup and cleanup alerts are listed,
// and the barrier's never reach a recorder. An outcome is a skip when the scenario says it
// cannot run here (it was not run); an error when the attempt could not emulate the technique
// (the victim did not start or could not be given its shape, setup failed, a step ended with
// another exit status than its exit: lists, or without exit: exited 126 or 127, timed out or
// could not be exec'd, the barrier never came, Falco died, the run was cancelled); a fail when
// an expectation is unmet or a forbidden alert fired (forbid_others forbids every candidate
// rule no expectation names); inconclusive when Falco dropped syscall events and nothing but a
// missing alert would fail it; a pass otherwise. A rehearsal (no Falco) judges the steps only.
// Alerts of an expected rule that missed one criterion are near misses, named by that
// criterion. StepError is the step check on its own, for the runner to stop at the first
// failing step. Format renders a verdict for the person reading a failed test.
package verdict
