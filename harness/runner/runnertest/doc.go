// Package runnertest provides a double of Falco for tests of code that drives harness/runner, in
// the spirit of net/http/httptest: no Falco, but everything else real. The runner's alert.Hub is
// the real one, fed through an alert.ChannelSource; the double watches the execs the runner makes
// in its victims (Wrap a runner.StartFunc) and answers them the way Falco would, with recorded
// Falco alerts (LoadSamples, e.g. fixtures/falco/http-0.40.0.jsonl) rewritten for that exec: the
// victim's container id, the exec's AR_TOKEN and the current time. Attribution by token and
// container id, and the barrier, therefore take the paths they take with a real Falco.
//
// By default the double
//   - answers every barrier marker exec with the recording's barrier-rule alert (BarrierDelay
//     and DropBarriers change that, for tests of the barrier's waiting and timeout paths);
//   - after an exec of a step whose command is exactly one given to On, pushes that command's
//     alerts (a run step's shell command, or an exec step's argv joined by spaces: Exec.Command);
//   - pushes nothing for any other exec.
//
// React replaces that reaction (call Default from it to keep it for some execs), Before runs
// code before an exec reaches the victim (rendezvous, cancellation, panics), AddDrops makes the
// double report dropped syscall events, Fail makes the alert stream fail as when Falco dies, and
// Flush waits until the hub has routed every alert pushed so far.
//
// The package example runs one scenario this way on real victims (runner.StartVictims); tests
// that need no container can Wrap a StartFunc returning any runner.Victim.
//
// What the double cannot show: which rules a real Falco would fire. The alerts it pushes are
// those the test chose; every other field of a recorded alert (proc.cmdline, user.name, the
// rule's output) stays as it was recorded.
package runnertest
