// Command standin is a stand-in for the falco binary, for testing the Falco
// module where no Falco image exists. It is installed as /usr/bin/falco in
// a scratch image (see the module's tests) and behaves as far as the
// module can observe: `--version`, `-V` (replaying recorded JSON verdicts),
// and a run that reads the rendered config drop-in and -r rules files,
// serves Falco's gRPC outputs and version services on the configured
// socket (or posts to http_output), emits the barrier rule's alert when a
// process carrying AR_BARRIER is exec'd, and stops on SIGTERM with Falco's
// exit summary. STANDIN_REPLAY=<file> replays a recorded start-up log
// instead (fixtures/falco/logs) and exits with its recorded code.
//
// Events it cannot observe are fed through a control socket: a marker
// exec of `falco --version` with AR_BARRIER set sends "barrier <token>",
// and tests exec `falco standin-ctl drop N` or `falco standin-ctl exit CODE`.
//
// It is test equipment; its messages that Falco never prints start with
// "standin:".
package main
