package soak

import (
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"time"
)

// slowEngine is a unix socket in front of the Docker engine that holds
// every chunk a client sends for delay before passing it on: each API
// request arrives late, as from an engine under load. Replies pass at once.
type slowEngine struct {
	ln    net.Listener
	path  string
	conns sync.WaitGroup
}

// engineSocket is the path of the engine's socket from DOCKER_HOST, or the
// default one.
func engineSocket() (string, error) {
	host := os.Getenv("DOCKER_HOST")
	if host == "" {
		return "/var/run/docker.sock", nil
	}
	if path, ok := strings.CutPrefix(host, "unix://"); ok {
		return path, nil
	}
	return "", errors.New("DOCKER_HOST=" + host + " is not a unix socket: the slow engine proxies unix sockets only")
}

func startSlowEngine(path string, delay time.Duration) (*slowEngine, error) {
	upstream, err := engineSocket()
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	p := &slowEngine{ln: ln, path: path}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.conns.Add(1)
			go func() {
				defer p.conns.Done()
				p.serve(c, upstream, delay)
			}()
		}
	}()
	return p, nil
}

func (p *slowEngine) serve(c net.Conn, upstream string, delay time.Duration) {
	defer c.Close()
	u, err := net.Dial("unix", upstream)
	if err != nil {
		return
	}
	defer u.Close()
	go func() {
		_, _ = io.Copy(c, u)
		_ = c.Close()
	}()
	buf := make([]byte, 64<<10)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			time.Sleep(delay)
			if _, werr := u.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// close stops listening, ends every connection and removes the socket.
func (p *slowEngine) close() {
	_ = p.ln.Close() // a unix listener removes its socket file
	p.conns.Wait()
}
