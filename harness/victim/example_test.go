package victim_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/attack-replay/attack-replay/harness/victim"
)

// A scenario's victim: start it, register its removal at once, run a step as a user with a
// timeout, and read the result. (Compiled, not run: it needs a Docker engine.)
func ExampleRun() {
	ctx := context.Background()
	c, err := victim.Run(ctx, "", victim.WithRunID("run-42"), victim.WithScenario("disable-rescue-service"))
	defer func() {
		if err := c.Terminate(ctx); err != nil {
			log.Print(err)
		}
	}()
	if err != nil {
		log.Print(err) // return, not log.Fatal: the deferred Terminate must run
		return
	}
	res, err := c.Exec(ctx, victim.ExecRequest{
		Cmd:     []string{"sh", "-c", "systemctl disable rescue.service"},
		User:    "1000",
		Env:     []string{"AR_TOKEN=run-42/step/0"},
		Timeout: 10 * time.Second,
	})
	if err != nil {
		log.Print(err)
		return
	}
	fmt.Println(c.ShortID(), c.Privileges(), res.ExitCode, res.TimedOut)
}
