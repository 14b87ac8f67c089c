package container

import (
	"errors"
	"io"
	"os"
	"os/signal"
	"sync"
	"time"

	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// terminal relays between the user's terminal and the container's pty.
type terminal struct {
	master  *os.File
	restore func()
	output  sync.WaitGroup
	stopSig func()
}

// attachTerminal puts the user's terminal in raw mode, copies the
// container's output to out and, with interactive, in to the container.
// The pty follows the size of in's terminal, also on later resizes.
func attachTerminal(master, in *os.File, out io.Writer, interactive bool) (*terminal, error) {
	t := &terminal{master: master, restore: func() {}, stopSig: func() {}}
	if in != nil && term.IsTerminal(int(in.Fd())) {
		state, err := term.MakeRaw(int(in.Fd()))
		if err != nil {
			return nil, err
		}
		t.restore = func() { _ = term.Restore(int(in.Fd()), state) }
		t.followSize(in)
	}
	if interactive && in != nil {
		go func() { _, _ = io.Copy(master, in) }()
	}
	t.output.Add(1)
	go func() {
		defer t.output.Done()
		_, err := io.Copy(out, master)
		// EIO means the last terminal-side fd closed: the container
		// exited.
		_ = err
	}()
	return t, nil
}

func (t *terminal) followSize(in *os.File) {
	t.stopSig = onWindowChange(int(in.Fd()), func(ws *unix.Winsize) {
		_ = unix.IoctlSetWinsize(int(t.master.Fd()), unix.TIOCSWINSZ, ws)
	})
}

// onWindowChange calls resize with the size of the terminal fd now and
// after each SIGWINCH, until stop is called.
func onWindowChange(fd int, resize func(*unix.Winsize)) (stop func()) {
	update := func() {
		if ws, err := unix.IoctlGetWinsize(fd, unix.TIOCGWINSZ); err == nil {
			resize(ws)
		}
	}
	update()
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, unix.SIGWINCH)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-ch:
				update()
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(ch)
		close(done)
	}
}

// close waits for the container's remaining output and restores the user's
// terminal.
func (t *terminal) close() {
	t.output.Wait()
	t.stopSig()
	t.restore()
	t.master.Close()
}

// closeWithin is close, but stops copying output after grace when the
// master is pollable (non-blocking); with a blocking master it waits as
// close does.
func (t *terminal) closeWithin(grace time.Duration) {
	_ = t.master.SetReadDeadline(time.Now().Add(grace))
	t.close()
}

// ErrNotATerminal means -t with -i was asked for while stdin is not a
// terminal.
var ErrNotATerminal = errors.New("the input device is not a TTY: drop -t, or run gocker from a terminal")
