package victim

import (
	"context"
	"fmt"
	"maps"
)

// Grant is what an engine lets a container have, as PrivilegesAuto finds it out.
type Grant struct {
	Privileged bool // privileged containers start
	// PrivilegedRefusal is the engine's answer to a privileged container, when it refused one.
	PrivilegedRefusal string
	// Accepted is, where privileged containers do not start, the widest capability set one
	// starts with.
	Accepted []string
	// Refused are the capabilities the engine refuses then: names it does not know and
	// capabilities outside its runtime's bounding set, in kernel order.
	Refused []string
}

// ProbeGrant finds out, for a diagnosis, what the engine grants containers of image without
// starting a victim: a bare privileged container first, then, where that is refused, the
// widest capability set (see widestCapabilities). Its throw-away containers run `true` (image
// must have it), carry labels besides the harness's own, and are removed. It never pulls
// image, and it neither reads nor fills the cache victims use.
func ProbeGrant(ctx context.Context, image string, labels map[string]string) (Grant, error) {
	cli, err := dockerClient(ctx)
	if err != nil {
		return Grant{}, fmt.Errorf("probe privileges: %w", err)
	}
	present, err := imagePresent(ctx, cli, image)
	if err != nil {
		return Grant{}, fmt.Errorf("probe privileges: %w", err)
	}
	if !present {
		return Grant{}, fmt.Errorf("probe privileges: %w", missingImageError(image))
	}
	instance := randomHex(8)
	probe := probeRunner{cli: cli, image: image, labels: maps.Clone(labels)}
	if probe.labels == nil {
		probe.labels = map[string]string{}
	}
	maps.Copy(probe.labels, map[string]string{LabelProject: "1", LabelRole: roleProbe, LabelInstance: instance})
	// A create cut short by the context may leave a container whose id never came back.
	defer func() { _, _ = sweep(context.WithoutCancel(ctx), cli, map[string]string{LabelInstance: instance}) }()

	refusal, err := probe.privilegedRefusal(ctx)
	if err != nil {
		return Grant{}, fmt.Errorf("probe privileges: %w", err)
	}
	if refusal == "" {
		return Grant{Privileged: true}, nil
	}
	accepted, refused, err := probe.widestCapabilities(ctx)
	if err != nil {
		return Grant{PrivilegedRefusal: refusal}, fmt.Errorf("probe privileges: %w", err)
	}
	return Grant{PrivilegedRefusal: refusal, Accepted: accepted, Refused: refused}, nil
}
