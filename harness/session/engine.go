package session

import (
	"context"
	"fmt"
	"time"

	"github.com/moby/moby/client"
)

// engineTimeout bounds the check of the engine DOCKER_HOST names.
const engineTimeout = 10 * time.Second

// checkDockerHost makes sure the engine DOCKER_HOST names answers. When it
// does not, testcontainers falls back to the default socket: a run with
// DOCKER_HOST=unix:///dead.sock started Falco and victims on
// /var/run/docker.sock (suites/soak's bad-input sweep), so a run meant for
// one engine would quietly use another. Unset, the default engine is
// wanted and testcontainers' own checks name it.
func checkDockerHost(ctx context.Context, host string) error {
	if host == "" {
		return nil
	}
	cli, err := client.New(client.FromEnv)
	if err != nil {
		return fmt.Errorf("DOCKER_HOST=%q: %w: set it to a Docker engine's address (unix:///var/run/docker.sock, tcp://host:2376), or unset it for the local engine", host, err)
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(ctx, engineTimeout)
	defer cancel()
	if _, err := cli.Ping(ctx, client.PingOptions{}); err != nil {
		return fmt.Errorf("DOCKER_HOST=%q: no Docker engine answers there (%v): start that engine, or unset DOCKER_HOST for the local one; nothing was started", host, err)
	}
	return nil
}
