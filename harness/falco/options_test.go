package falco

import (
	"context"
	"strings"
	"testing"
)

func TestRunRefusesBadExtraHosts(t *testing.T) {
	_, err := Run(context.Background(), "falcosecurity/falco:0.43.1", WithExtraHosts("kubernetes.default.svc.cluster.local:127.0.0.1", "no-ip"))
	if err == nil || err.Error() != `run falco: extra hosts: host entry "no-ip" has no ip (want name:ip, like metadata.test:198.51.100.9)` {
		t.Errorf("err = %v", err)
	}
	if _, err := Run(context.Background(), "x", WithExtraHosts("a:1.2.3")); err == nil || !strings.Contains(err.Error(), `"1.2.3" is not an IP address`) {
		t.Errorf("err = %v", err)
	}
}
