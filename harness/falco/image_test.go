package falco

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
)

func TestVersionFromImageConfig(t *testing.T) {
	for _, tc := range []struct {
		name   string
		labels map[string]string
		env    []string
		want   string
		from   string
	}{
		{"label", map[string]string{versionLabel: "0.43.1"}, []string{"FALCO_VERSION=0.40.0"}, "0.43.1", "label " + versionLabel},
		{"official images' environment", nil, []string{"PATH=/usr/bin", "FALCO_VERSION=0.44.1", "HOST_ROOT=/host"}, "0.44.1", "env FALCO_VERSION"},
		{"latest says nothing", map[string]string{versionLabel: "latest"}, []string{"FALCO_VERSION=latest"}, "0.0.0", ""},
		{"nothing", nil, nil, "0.0.0", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, from := versionFromImageConfig(tc.labels, tc.env)
			if v.String() != tc.want || from != tc.from {
				t.Errorf("got %s from %q, want %s from %q", v, from, tc.want, tc.from)
			}
		})
	}
}

// TestInspectImage reads the stand-in's version the way the doctor does: it has no version
// label, so `falco --version` runs in a labelled container that is removed afterwards.
func TestInspectImage(t *testing.T) {
	img := standinImage(t, "0.44.1")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	run := "test-inspect-" + newID()
	info, err := InspectImage(ctx, img, falcoLabels(run))
	if err != nil {
		t.Fatal(err)
	}
	if info.Version.String() != "0.44.1" || info.VersionFrom != "falco --version" || info.ID == "" {
		t.Errorf("info = %+v", info)
	}
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	filters := make(client.Filters).Add("label", LabelRun+"="+run)
	left, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: filters})
	if err != nil || len(left.Items) > 0 {
		t.Errorf("containers of the version probe left: %v, %v", left.Items, err)
	}

	_, err = InspectImage(ctx, "attack-replay/no-such-falco:never", nil)
	if !errors.Is(err, ErrImageUnavailable) {
		t.Errorf("absent image: %v, want ErrImageUnavailable", err)
	}
}
