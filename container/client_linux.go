package container

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// The detached monitor and the gocker command that started it (run -d,
// start) talk over a SOCK_SEQPACKET socket pair, one message per packet,
// each starting with its type byte:
//
//	gocker (run -d, start)             monitor (setsid, stdio /dev/null)
//	start the monitor, fd 3 ---------> takes the monitor lock, starts
//	                                   the container
//	the outcome <--------------------- 'r' {"Pid":N} or {"Error":"...","Code":127}
//	prints the id, exits               without attach: closes the socket
//
//	with attach (start -a):
//	writes to stdout, stderr <-------- 'o' output, 'e' output (raw chunks)
//	'i' input, 'c' end of input -----> the container's stdin
//	'w' {"Rows":R,"Cols":C} ---------> the container's terminal size
//	exits with the status <----------- 'x' {"ExitCode":N} when the
//	                                   container's first run ends
//
// The monitor keeps running when the command goes away; it then stops
// sending and closes the container's stdin.
const (
	packetReady      = 'r'
	packetStdout     = 'o'
	packetStderr     = 'e'
	packetExit       = 'x'
	packetStdin      = 'i'
	packetStdinClose = 'c'
	packetResize     = 'w'
)

// maxPacket is the largest packet: a type byte and a chunk of output. It
// stays well below the default socket send buffer (net.core.wmem_default,
// usually 208 KiB), which bounds a SOCK_SEQPACKET message.
const maxPacket = 1 + 32<<10

// monitorReady is the payload of packetReady.
type monitorReady struct {
	Pid   int    `json:"Pid,omitempty"`
	Error string `json:"Error,omitempty"`
	Code  int    `json:"Code,omitempty"`
}

// monitorExit is the payload of packetExit.
type monitorExit struct {
	ExitCode int `json:"ExitCode"`
}

// terminalSize is the payload of packetResize.
type terminalSize struct {
	Rows uint16 `json:"Rows"`
	Cols uint16 `json:"Cols"`
}

// packetConn is one end of the socket pair. Sends are serialized; a send
// to a peer that went away fails once and turns every later send into a
// no-op.
type packetConn struct {
	f    *os.File
	mu   sync.Mutex
	gone bool
	buf  []byte
}

// newPacketConn wraps fd, setting it non-blocking so that the Go poller
// can interrupt its reads.
func newPacketConn(fd int, name string) (*packetConn, error) {
	if err := unix.SetNonblock(fd, true); err != nil {
		return nil, os.NewSyscallError("fcntl(O_NONBLOCK)", err)
	}
	return &packetConn{f: os.NewFile(uintptr(fd), name)}, nil
}

func (c *packetConn) send(kind byte, payload []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gone {
		return errPeerGone
	}
	c.buf = append(append(c.buf[:0], kind), payload...)
	if _, err := c.f.Write(c.buf); err != nil {
		c.gone = true
		return err
	}
	return nil
}

func (c *packetConn) sendJSON(kind byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return c.send(kind, data)
}

// receive reads one packet into buf and returns its type and payload.
func (c *packetConn) receive(buf []byte) (byte, []byte, error) {
	n, err := c.f.Read(buf)
	if err != nil {
		return 0, nil, err
	}
	if n == 0 {
		return 0, nil, errPeerGone
	}
	return buf[0], buf[1:n], nil
}

func (c *packetConn) close() error { return c.f.Close() }

var errPeerGone = errors.New("the other side of the monitor connection is gone")

// readyError turns a failed monitorReady into the error to report.
func (r monitorReady) err() error {
	if r.Error == "" {
		return nil
	}
	code := r.Code
	if code == 0 {
		code = ExitGockerError
	}
	return &StartError{Code: code, Err: errors.New(r.Error)}
}

// newReady builds the ready message for a start that returned err.
func newReady(pid int, err error) monitorReady {
	if err == nil {
		return monitorReady{Pid: pid}
	}
	code := ExitGockerError
	var se *StartError
	if errors.As(err, &se) {
		code = se.Code
	}
	return monitorReady{Error: err.Error(), Code: code}
}

func decodePacket(payload []byte, v any) error {
	if err := json.Unmarshal(payload, v); err != nil {
		return fmt.Errorf("decode monitor message: %w", err)
	}
	return nil
}
