// Package verdict judges the alerts of one scenario attempt against its expectations and holds
// the resulting verdict.
//
// Judge is pure. Only alerts of the steps phase are judged; setup and cleanup alerts are listed,
// and the barrier's never reach a recorder. An outcome is an error when the attempt could not
// emulate the technique (the victim did not start, setup failed, a step exited 126 or 127, timed
// out or could not be exec'd, the barrier never came, Falco died, the run was cancelled); a fail
// when an expectation is unmet, a forbidden alert fired or a must_succeed step failed;
// inconclusive when Falco dropped syscall events and nothing but a missing alert would fail it;
// a pass otherwise. Alerts of an expected rule that missed one criterion are near misses, named
// by that criterion. Format renders a verdict for the person reading a failed test.
package verdict
