package container

import (
	"io"
	"os"
	"sync"
	"time"
)

// outputDrainTimeout bounds how long a monitor keeps reading output after
// the container's process exited. Every process in the container dies
// with it and closes its end of the pipes or pty, so only a process
// outside that holds them open could make the reads last longer.
const outputDrainTimeout = 2 * time.Second

// outputRelay copies a container's output pipes until they end.
type outputRelay struct {
	done    sync.WaitGroup
	sources []*os.File
}

// relayOutput starts copying the stdout and stderr pipes of p to the log
// and to sink. Sink, which may be nil, receives each chunk as it was read,
// with its stream.
func relayOutput(p *Process, logw *logWriter, sink func(stream string, data []byte)) *outputRelay {
	r := &outputRelay{sources: []*os.File{p.Stdout, p.Stderr}}
	r.done.Add(2)
	go r.copy(p.Stdout, StreamStdout, logw, sink)
	go r.copy(p.Stderr, StreamStderr, logw, sink)
	return r
}

func (r *outputRelay) copy(src *os.File, stream string, logw *logWriter, sink func(string, []byte)) {
	defer r.done.Done()
	split := logw.splitter(stream)
	buf := make([]byte, maxPacket-1)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			_, _ = split.Write(buf[:n])
			if sink != nil {
				sink(stream, buf[:n])
			}
		}
		if err != nil {
			break
		}
	}
	split.Flush()
}

// wait waits for the copiers to reach the end of the output, and after
// timeout closes their sources to end them.
func (r *outputRelay) wait(timeout time.Duration) {
	finished := make(chan struct{})
	go func() {
		r.done.Wait()
		close(finished)
	}()
	select {
	case <-finished:
	case <-time.After(timeout):
		for _, f := range r.sources {
			f.Close()
		}
		<-finished
	}
}

// closeOutput closes the monitor's ends of the process's output: its
// pipes, or its pty.
func (p *Process) closeOutput() {
	for _, f := range []*os.File{p.Stdout, p.Stderr, p.Console} {
		if f != nil {
			f.Close()
		}
	}
}

// teeWriter writes to w and to the log's line splitter. A failed write to
// w is returned; the log takes everything that reached w.
type teeWriter struct {
	w   io.Writer
	log *lineSplitter
}

func (t *teeWriter) Write(p []byte) (int, error) {
	n, err := t.w.Write(p)
	_, _ = t.log.Write(p[:n])
	return n, err
}
