package netstack

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"

	"github.com/rootless-containers/rootlesskit/v2/pkg/port"
	"github.com/rootless-containers/rootlesskit/v2/pkg/port/builtin/msg"
)

// copyBufferSize is the buffer each direction of a forwarded TCP
// connection copies through with read(2) and write(2). On a 2-vCPU machine
// this moved 15 to 20% more data than io.Copy, which splices through a
// pipe, and more than buffers of 16 or 64 KiB (docs/benchmarks.md).
const copyBufferSize = 32 << 10

var copyBuffers = sync.Pool{New: func() any { b := make([]byte, copyBufferSize); return &b }}

// tcpPort is one published TCP port, listening on the host. For each
// connection, the port driver's child dials the container port inside the
// container's network namespace (rootlesskit's protocol), and the two
// sockets are copied into each other until both directions end.
type tcpPort struct {
	ln     net.Listener
	socket string // the port driver's Unix socket
	spec   port.Spec
	log    *slog.Logger

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// listenTCPPort listens on the host side of spec and serves connections
// until close.
func listenTCPPort(socket string, spec port.Spec, address string, log *slog.Logger) (*tcpPort, error) {
	ln, err := net.Listen("tcp", address)
	if err != nil {
		return nil, err
	}
	p := &tcpPort{ln: ln, socket: socket, spec: spec, log: log, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

func (p *tcpPort) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				p.log.Debug("published port stops accepting", "port", p.spec.ParentPort, "err", err)
			}
			return
		}
		if !p.track(c) {
			c.Close()
			return
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			defer p.untrack(c)
			if err := p.forward(c.(*net.TCPConn)); err != nil {
				p.log.Debug("forward connection", "port", p.spec.ParentPort, "err", err)
			}
		}()
	}
}

// forward connects client to the container port and copies both ways.
func (p *tcpPort) forward(client *net.TCPConn) error {
	fd, err := msg.ConnectToChildWithRetry(p.socket, p.spec, 10)
	if err != nil {
		return err
	}
	f := os.NewFile(uintptr(fd), "port-child-socket")
	fc, err := net.FileConn(f)
	f.Close()
	if err != nil {
		return err
	}
	server, ok := fc.(*net.TCPConn)
	if !ok {
		fc.Close()
		return errors.New("the port driver's child returned a socket that is not TCP")
	}
	if !p.track(server) {
		server.Close()
		return nil
	}
	defer p.untrack(server)
	done := make(chan struct{})
	go func() {
		copyHalf(server, client)
		close(done)
	}()
	copyHalf(client, server)
	<-done
	return nil
}

// copyHalf copies one direction of a connection and passes its end on.
// The reader and writer are wrapped so that io.CopyBuffer uses the buffer
// instead of splice(2).
func copyHalf(dst, src *net.TCPConn) {
	buf := copyBuffers.Get().(*[]byte)
	_, _ = io.CopyBuffer(struct{ io.Writer }{dst}, struct{ io.Reader }{src}, *buf)
	copyBuffers.Put(buf)
	_ = src.CloseRead()
	_ = dst.CloseWrite()
}

// track records a live connection so that close can end it. It returns
// false once the port is closed.
func (p *tcpPort) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *tcpPort) untrack(c net.Conn) {
	c.Close()
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

// close stops listening, ends every forwarded connection and waits for
// their goroutines.
func (p *tcpPort) close() error {
	err := p.ln.Close()
	p.mu.Lock()
	p.closed = true
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
	return err
}
