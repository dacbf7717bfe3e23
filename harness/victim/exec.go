package victim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/client"
)

// MaxOutput bounds what Exec keeps of stdout and of stderr: the last MaxOutput bytes of each.
// A step that prints without end must not exhaust the harness's memory, and the end of the
// output is where the error usually is.
const MaxOutput = 64 << 10

// EnvExecID is set on every exec, with a value unique to it, so the exec's processes can be
// found inside the victim and killed (see Container.Exec). Steps may not set it themselves.
const EnvExecID = "AR_EXEC"

// Bounds of the cleanup work Exec does after a timeout or a cancellation.
const (
	killTimeout = 15 * time.Second
	// streamGrace is how long the output stream may stay open after the kill; a process
	// that escaped the kill and still holds the pipe must not hold the step too.
	streamGrace = 5 * time.Second
	// inspectTimeout bounds waiting for the engine to report an exec it streamed as ended.
	inspectTimeout = 10 * time.Second
)

// ExecRequest is one command to run in the victim.
type ExecRequest struct {
	Cmd     []string      // argv; no shell is added (use []string{"sh", "-c", script} for one)
	User    string        // user or uid[:gid] ("" = the image's, root)
	Env     []string      // KEY=VALUE, added to the container's environment
	Workdir string        // working directory ("" = the image's)
	Timeout time.Duration // kill the command's process tree after this long (0 = only ctx)
	// TTY gives the command a terminal (docker exec -t), so Falco sees proc.tty != 0. A
	// terminal has one output stream: stdout and stderr both arrive in Stdout, with "\r\n"
	// line ends.
	TTY bool
}

// ExecResult is what one exec did.
type ExecResult struct {
	// ExitCode is the command's exit status: 126 and 127 when the engine or a shell could not
	// run it (not executable, not found, bad user or working directory), -1 when it was killed
	// on timeout or cancellation.
	ExitCode int
	// Stdout and Stderr are the tails of the two streams, at most MaxOutput bytes each;
	// StdoutDropped and StderrDropped count the bytes cut from their start.
	Stdout, Stderr               []byte
	StdoutDropped, StderrDropped int64
	Start                        time.Time     // when the engine was asked to start the command
	Duration                     time.Duration // until the output ended or the command was killed
	TimedOut                     bool          // killed because Timeout passed
}

// Exec runs req in the victim through the Docker exec API and waits for it to end, for
// req.Timeout to pass, or for ctx to end. A command that exits non-zero is not an error: the
// error is for what kept the command from being run or waited for, and for ctx's end.
//
// On timeout or cancellation Exec kills the command's whole process tree. Docker has no API to
// signal an exec, and the host PID that ExecInspect reports is useless where the engine runs
// in a VM or on another host (Docker Desktop, a remote DOCKER_HOST), and it names only the
// first process, not the children a step forks. Wrapping the command (timeout, setsid) would
// kill reliably but changes the process tree Falco judges: proc.pname, proc.aname and the
// session would be the wrapper's, not the attack's. So the command runs unwrapped with a
// unique EnvExecID, and a second exec, as root, finds every process whose environment holds
// that value plus all descendants of those processes (so children that cleared their
// environment, e.g. under sudo, are found through their parents), stops them all so none can
// fork, and kills them, until none is left. What it cannot find is a process that both cleared
// its environment and left its parent's tree; the victim's removal ends those.
func (c *Container) Exec(ctx context.Context, req ExecRequest) (ExecResult, error) {
	res := ExecResult{ExitCode: -1}
	if len(req.Cmd) == 0 {
		return res, errors.New("exec: empty command (give at least the program to run)")
	}
	cmdline := strings.Join(req.Cmd, " ")
	for _, kv := range req.Env {
		key, _, ok := strings.Cut(kv, "=")
		if !ok || key == "" {
			return res, fmt.Errorf("exec %q: environment entry %q is not KEY=VALUE", cmdline, kv)
		}
		if key == EnvExecID {
			return res, fmt.Errorf("exec %q: environment variable %s is reserved for the harness", cmdline, EnvExecID)
		}
	}
	marker := EnvExecID + "=" + randomHex(32)
	created, err := c.cli.ExecCreate(ctx, c.ID(), client.ExecCreateOptions{
		User:         req.User,
		Env:          append(slices.Clone(req.Env), marker),
		WorkingDir:   req.Workdir,
		Cmd:          req.Cmd,
		TTY:          req.TTY,
		AttachStdout: true,
		AttachStderr: true,
	})
	if err != nil {
		return res, fmt.Errorf("exec %q: create: %w", cmdline, err)
	}

	res.Start = time.Now()
	attached, err := c.cli.ExecAttach(ctx, created.ID, client.ExecAttachOptions{TTY: req.TTY})
	if err != nil {
		// The engine may have started the command before the error reached us.
		return res, fmt.Errorf("exec %q: start: %w", cmdline, errors.Join(err, c.kill(ctx, marker)))
	}
	defer attached.Close()
	stdout, stderr := &tailBuffer{max: MaxOutput}, &tailBuffer{max: MaxOutput}
	copied := make(chan error, 1)
	go func() {
		var err error
		if req.TTY {
			// A terminal's output is one raw stream, not multiplexed.
			_, err = io.Copy(stdout, attached.Reader)
		} else {
			_, err = stdcopy.StdCopy(stdout, stderr, attached.Reader)
		}
		copied <- err
	}()

	var deadline <-chan time.Time
	if req.Timeout > 0 {
		timer := time.NewTimer(req.Timeout)
		defer timer.Stop()
		deadline = timer.C
	}
	var copyErr, cancelled error
	select {
	case copyErr = <-copied:
	case <-deadline:
		res.TimedOut = true
	case <-ctx.Done():
		cancelled = ctx.Err()
	}

	if res.TimedOut || cancelled != nil {
		killErr := c.kill(ctx, marker)
		res.Duration = time.Since(res.Start)
		select {
		case <-copied:
		case <-time.After(streamGrace):
			attached.Close()
			<-copied
		}
		res.fill(stdout, stderr)
		if cancelled != nil {
			return res, fmt.Errorf("exec %q: %w", cmdline, errors.Join(cancelled, killErr))
		}
		if killErr != nil {
			return res, fmt.Errorf("exec %q: timed out after %s: %w", cmdline, req.Timeout, killErr)
		}
		return res, nil
	}

	res.Duration = time.Since(res.Start)
	res.fill(stdout, stderr)
	if copyErr != nil {
		return res, fmt.Errorf("exec %q: read output: %w", cmdline, copyErr)
	}
	code, err := c.exitCode(ctx, created.ID)
	if err != nil {
		return res, fmt.Errorf("exec %q: %w", cmdline, err)
	}
	res.ExitCode = code
	return res, nil
}

func (r *ExecResult) fill(stdout, stderr *tailBuffer) {
	r.Stdout, r.StdoutDropped = stdout.buf, stdout.dropped
	r.Stderr, r.StderrDropped = stderr.buf, stderr.dropped
}

// exitCode waits for the engine to mark the exec ended; it does so a moment after closing the
// output stream, so the first inspect may still say running.
func (c *Container) exitCode(ctx context.Context, execID string) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, inspectTimeout)
	defer cancel()
	wait := time.Millisecond
	for {
		info, err := c.cli.ExecInspect(ctx, execID, client.ExecInspectOptions{})
		if err != nil {
			return -1, fmt.Errorf("inspect exec: %w", err)
		}
		if !info.Running {
			return info.ExitCode, nil
		}
		select {
		case <-ctx.Done():
			return -1, fmt.Errorf("inspect exec: still running after its output ended: %w", ctx.Err())
		case <-time.After(wait):
		}
		wait = min(2*wait, 50*time.Millisecond)
	}
}

// killScript finds the processes of one exec by the marker in their environment ($1), adds
// their descendants, stops the set until it no longer grows (a stopped process cannot fork),
// then kills it, and repeats until no marked process is left. It needs only a POSIX sh, GNU
// grep (-z reads the NUL-separated environ) and /proc.
const killScript = `marker=$1
self=$$
roots() {
	for d in /proc/[0-9]*; do
		[ "${d#/proc/}" = "$self" ] && continue
		grep -qsxzF -e "$marker" "$d/environ" && printf '%s ' "${d#/proc/}"
	done
}
grow() {
	set_=" $* "
	changed=1
	while [ "$changed" = 1 ]; do
		changed=0
		for d in /proc/[0-9]*; do
			p=${d#/proc/}
			case $set_ in *" $p "*) continue ;; esac
			read -r stat 2>/dev/null <"$d/stat" || continue
			set -- ${stat##*) }
			case $set_ in *" $2 "*) set_="$set_$p " changed=1 ;; esac
		done
	done
	echo $set_
}
round=0
while [ "$round" -lt 20 ]; do
	t=$(grow $(roots))
	[ -z "$t" ] && exit 0
	while :; do
		kill -STOP $t 2>/dev/null
		n=$(grow $t)
		[ "$n" = "$t" ] && break
		t=$n
	done
	kill -KILL $t 2>/dev/null
	round=$((round + 1))
done
echo "still alive after $round rounds: $t" >&2
exit 1
`

// kill ends every process of the exec that carries marker (see killScript). It runs on a
// context of its own: it is what a cancellation does, so ctx is often already done.
func (c *Container) kill(ctx context.Context, marker string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), killTimeout)
	defer cancel()
	created, err := c.cli.ExecCreate(ctx, c.ID(), client.ExecCreateOptions{
		User:         "0",
		Cmd:          []string{"sh", "-c", killScript, "attack-replay-kill", marker},
		AttachStdout: true,
		AttachStderr: true,
	})
	if err != nil {
		return fmt.Errorf("kill step processes: %w", err)
	}
	attached, err := c.cli.ExecAttach(ctx, created.ID, client.ExecAttachOptions{})
	if err != nil {
		return fmt.Errorf("kill step processes: %w", err)
	}
	out := &tailBuffer{max: 4 << 10}
	_, copyErr := stdcopy.StdCopy(out, out, attached.Reader)
	attached.Close()
	code, err := c.exitCode(ctx, created.ID)
	switch {
	case err != nil:
		return fmt.Errorf("kill step processes: %w", errors.Join(copyErr, err))
	case code != 0:
		return fmt.Errorf("kill step processes: exit %d: %s", code, strings.TrimSpace(string(out.buf)))
	}
	return nil
}

// tailBuffer keeps the last max bytes written to it and counts the bytes it dropped.
type tailBuffer struct {
	max     int
	buf     []byte
	dropped int64
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	if len(p) >= t.max {
		t.dropped += int64(len(t.buf) + len(p) - t.max)
		t.buf = append(t.buf[:0], p[len(p)-t.max:]...)
		return len(p), nil
	}
	if over := len(t.buf) + len(p) - t.max; over > 0 {
		// Reslicing keeps the backing array; append reallocates at about twice the kept
		// length when it runs out, so memory stays within a small multiple of max.
		t.dropped += int64(over)
		t.buf = t.buf[over:]
	}
	t.buf = append(t.buf, p...)
	return len(p), nil
}
