package falco

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
)

// falcoBinary is where the official images install Falco. The harness
// runs it directly rather than through the image's entrypoint script, so
// the same arguments work in every image.
const falcoBinary = "/usr/bin/falco"

// oneShotTimeout bounds a short-lived Falco run (--version, -V).
const oneShotTimeout = 2 * time.Minute

// createTimeout bounds a container create (or the Falco container's start), which runs on a
// context the caller's cancellation does not cut short: the engine finishes a create the
// client stopped waiting for, and a container whose id never reached us would outlive the
// run. The cancellation is honoured as soon as the create returns.
const createTimeout = 60 * time.Second

// uncancelled is ctx without its cancellation or deadline, bounded by createTimeout.
func uncancelled(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), createTimeout)
}

// Labels every container the harness starts carries, so a run can be
// swept after a crash (common brief).
const (
	LabelApp  = "attack-replay"
	LabelRole = "attack-replay.role"
	LabelRun  = "attack-replay.run"
	RoleFalco = "falco"
)

func falcoLabels(runID string) map[string]string {
	return map[string]string{LabelApp: "1", LabelRole: RoleFalco, LabelRun: runID}
}

// oneShot is a Falco run that exits by itself.
type oneShot struct {
	image  string
	args   []string
	files  map[string][]byte // container path → content, copied before start
	labels map[string]string
	// after runs once the container has exited, before it is removed.
	after func(ctx context.Context, id string) error
}

type oneShotResult struct {
	stdout, stderr string
	exitCode       int
}

// run creates, starts and waits for the container, then removes it.
func (o oneShot) run(ctx context.Context, cli *testcontainers.DockerClient) (res oneShotResult, err error) {
	ctx, cancel := context.WithTimeout(ctx, oneShotTimeout)
	defer cancel()
	cfg := &container.Config{Image: o.image, Entrypoint: []string{falcoBinary}, Cmd: o.args, Labels: o.labels}
	err = withContainer(ctx, cli, cfg, func(id string) error {
		if len(o.files) > 0 {
			archive, err := tarFiles(o.files)
			if err != nil {
				return err
			}
			if _, err := cli.CopyToContainer(ctx, id, client.CopyToContainerOptions{DestinationPath: "/", Content: archive}); err != nil {
				return fmt.Errorf("copy files into container: %w", err)
			}
		}
		wait := cli.ContainerWait(ctx, id, client.ContainerWaitOptions{Condition: container.WaitConditionNextExit})
		if _, err := cli.ContainerStart(ctx, id, client.ContainerStartOptions{}); err != nil {
			return fmt.Errorf("start container: %w", err)
		}
		select {
		case w := <-wait.Result:
			res.exitCode = int(w.StatusCode)
		case err := <-wait.Error:
			return fmt.Errorf("wait for container: %w", err)
		}
		logs, err := cli.ContainerLogs(ctx, id, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true})
		if err != nil {
			return fmt.Errorf("read container logs: %w", err)
		}
		defer logs.Close()
		var stdout, stderr bytes.Buffer
		if _, err := stdcopy.StdCopy(&stdout, &stderr, logs); err != nil {
			return fmt.Errorf("read container logs: %w", err)
		}
		res.stdout, res.stderr = stdout.String(), stderr.String()
		if o.after != nil {
			return o.after(ctx, id)
		}
		return nil
	})
	return res, err
}

// withContainer creates a container from cfg without starting it, calls fn
// with its id, and removes it, also when ctx has ended or fn failed.
func withContainer(ctx context.Context, cli *testcontainers.DockerClient, cfg *container.Config, fn func(id string) error) (err error) {
	cctx, ccancel := uncancelled(ctx)
	created, err := cli.ContainerCreate(cctx, client.ContainerCreateOptions{Config: cfg, HostConfig: &container.HostConfig{}})
	ccancel()
	if err != nil {
		return fmt.Errorf("create container: %w", err)
	}
	defer func() {
		// A fresh context: the container must go even when ctx ended.
		rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer rcancel()
		if _, rerr := cli.ContainerRemove(rctx, created.ID, client.ContainerRemoveOptions{Force: true}); rerr != nil && err == nil {
			err = fmt.Errorf("remove container: %w", rerr)
		}
	}()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("create container: %w", err)
	}
	return fn(created.ID)
}

// tarFiles builds a tar archive holding files at their absolute paths;
// Docker creates missing parent directories when it extracts one.
func tarFiles(files map[string][]byte) (*bytes.Buffer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, name := range slices.Sorted(maps.Keys(files)) {
		data := files[name]
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), ModTime: time.Unix(0, 0)}); err != nil {
			return nil, fmt.Errorf("archive %q: %w", name, err)
		}
		if _, err := tw.Write(data); err != nil {
			return nil, fmt.Errorf("archive %q: %w", name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("archive files: %w", err)
	}
	return &buf, nil
}
