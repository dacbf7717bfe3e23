package falco

import (
	"fmt"

	"github.com/attack-replay/attack-replay/harness/alert"
)

// BarrierTag is the tag of the barrier rule.
const BarrierTag = "attack-replay"

// RenderBarrierRule renders the harness's own rule, loaded with every run:
// it fires on any exec whose environment holds AR_BARRIER, and its alert
// carries the value (append_output's ar_barrier field) so the hub hands it
// to the waiter holding that token. fixtures/falco/FACTS.md: this rule fired for
// `docker exec -e AR_BARRIER=tok … /bin/true` on 0.40.
//
// The exec condition depends on the version. Up to 0.42 Falco delivers an
// enter and an exit event per execve: `evt.dir = <` keeps the exit, where
// proc.env is the new program's. 0.43 dropped enter events; there
// `evt.dir = <` is always true and raises LOAD_DEPRECATED_ITEM
// (samples/logs/err43c-0.43.1.stderr), so it is left out.
func RenderBarrierRule(v Version) []byte {
	cond := "evt.type in (execve, execveat)"
	if v.HasEnterEvents() {
		cond += " and evt.dir = <"
	}
	cond += fmt.Sprintf(` and proc.env[%s] != ""`, alert.EnvBarrier)
	return fmt.Appendf(nil, `# attack-replay barrier rule for Falco %s, rendered by harness/falco.
# The harness execs a marker with %s=<token> and waits for this rule's alert:
# Falco handles events in order, so every earlier alert has arrived by then.
- rule: %s
  desc: >-
    attack-replay marker: an exec carrying %s. Used for readiness and to
    close each scenario's alert set; not a detection.
  condition: %s
  output: "%s token=%%proc.env[%s] (cmdline=%%proc.cmdline)"
  priority: DEBUG
  tags: [%s]
`, v, alert.EnvBarrier, alert.BarrierRule, alert.EnvBarrier, cond, alert.BarrierRule, alert.EnvBarrier, BarrierTag)
}
