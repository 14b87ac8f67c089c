package container

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// The container's output is kept in json.log in its directory, in the
// format of Docker's json-file driver. Each line is one JSON object: the
// output ("log", a line with its newline), the stream it came from
// ("stdout" or "stderr"), and the time gocker read it ("time", RFC 3339
// with nanoseconds, UTC):
//
//	{"log":"hello\n","stream":"stdout","time":"2024-05-01T10:00:00.123456789Z"}
//
// A line longer than maxLogLine is split into several records, and only
// the last of them ends with a newline. Output that ends without a newline
// gives a last record without one.
// With a size limit, json.log is renamed to json.log.1 (json.log.1 to
// json.log.2, and so on) before a record would make it larger than the
// limit, and the oldest file beyond max-file is deleted.
const (
	logFileName = "json.log"
	maxLogLine  = 16 << 10
)

// Log streams.
const (
	StreamStdout = "stdout"
	StreamStderr = "stderr"
)

// logRecord is one line of json.log.
type logRecord struct {
	Log    string    `json:"log"`
	Stream string    `json:"stream"`
	Time   time.Time `json:"time"`
}

// appendLogRecord appends the JSON line of one record to dst. It is the
// hot path of the monitor, so it avoids encoding/json's reflection and
// allocations.
func appendLogRecord(dst []byte, stream string, line []byte, t time.Time) []byte {
	dst = append(dst, `{"log":`...)
	dst = appendJSONString(dst, line)
	dst = append(dst, `,"stream":"`...)
	dst = append(dst, stream...)
	dst = append(dst, `","time":"`...)
	dst = t.UTC().AppendFormat(dst, time.RFC3339Nano)
	return append(dst, "\"}\n"...)
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string. Invalid UTF-8 becomes
// U+FFFD, as encoding/json does.
func appendJSONString(dst, s []byte) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			switch {
			case b == '"' || b == '\\':
				dst = append(dst, '\\', b)
			case b == '\n':
				dst = append(dst, '\\', 'n')
			case b == '\r':
				dst = append(dst, '\\', 'r')
			case b == '\t':
				dst = append(dst, '\\', 't')
			case b < 0x20:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xf])
			default:
				dst = append(dst, b)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, `\ufffd`...)
		} else {
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return append(dst, '"')
}

// logWriter appends records to json.log and rotates it. It is safe for
// concurrent use by the stdout and stderr copiers.
type logWriter struct {
	mu       sync.Mutex
	path     string
	f        *os.File
	size     int64
	maxSize  int64 // 0: no limit
	maxFiles int
	buf      []byte
	now      func() time.Time
	failed   bool // a write failed and was reported
	// onError receives the first failed write; nil drops it.
	onError func(error)
}

// openLogWriter returns a writer that appends to the log file at path.
// The file is opened, and created, at the first record, so a container
// that prints nothing costs no file (readers take a missing log as empty).
func openLogWriter(path string, maxSize int64, maxFiles int) (*logWriter, error) {
	return &logWriter{path: path, maxSize: maxSize, maxFiles: max(maxFiles, 1), now: time.Now}, nil
}

func (w *logWriter) open() error {
	f, err := os.OpenFile(w.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("open container log: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	w.f, w.size = f, st.Size()
	return nil
}

// Write stores line, which came from stream, as one record.
func (w *logWriter) Write(stream string, line []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = appendLogRecord(w.buf[:0], stream, line, w.now())
	if w.f == nil {
		if err := w.open(); err != nil {
			return err
		}
	}
	if w.maxSize > 0 && w.size > 0 && w.size+int64(len(w.buf)) > w.maxSize {
		if err := w.rotate(); err != nil {
			return err
		}
	}
	n, err := w.f.Write(w.buf)
	w.size += int64(n)
	return err
}

// splitter returns a line splitter that writes the lines of stream as
// records. The first failed write is reported to onError (once per
// writer), later ones are dropped: the container's output must not stop
// because its log cannot be written.
func (w *logWriter) splitter(stream string) *lineSplitter {
	return &lineSplitter{buf: make([]byte, 0, maxLogLine), emit: func(line []byte) {
		if err := w.Write(stream, line); err != nil {
			w.reportError(err)
		}
	}}
}

// reportError passes the first write error to onError.
func (w *logWriter) reportError(err error) {
	w.mu.Lock()
	first := !w.failed
	w.failed = true
	w.mu.Unlock()
	if first && w.onError != nil {
		w.onError(err)
	}
}

// rotate shifts json.log.N to json.log.N+1, dropping the oldest, and
// starts a new json.log. With max-file=1 the log starts over.
func (w *logWriter) rotate() error {
	if err := w.f.Close(); err != nil {
		return err
	}
	w.f = nil
	if w.maxFiles == 1 {
		if err := os.Remove(w.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return w.open()
	}
	for n := w.maxFiles - 1; n >= 1; n-- {
		from := rotatedLogPath(w.path, n-1)
		err := os.Rename(from, rotatedLogPath(w.path, n))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("rotate container log: %w", err)
		}
	}
	return w.open()
}

// Close closes the log file.
func (w *logWriter) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return nil
	}
	err := w.f.Close()
	w.f = nil
	return err
}

// rotatedLogPath returns the path of the nth file of a log: path itself
// for 0, path.N for older ones.
func rotatedLogPath(path string, n int) string {
	if n == 0 {
		return path
	}
	return path + "." + strconv.Itoa(n)
}

// logFiles returns the existing files of the log in dir, oldest first.
func logFiles(dir string) []string {
	path := filepath.Join(dir, logFileName)
	var files []string
	for n := 1; ; n++ {
		p := rotatedLogPath(path, n)
		if _, err := os.Stat(p); err != nil {
			break
		}
		files = append([]string{p}, files...)
	}
	if _, err := os.Stat(path); err == nil {
		files = append(files, path)
	}
	return files
}

// lineSplitter passes written bytes on as lines, newline included. A line
// longer than maxLogLine is passed on in parts, and Flush passes on a line
// still incomplete.
type lineSplitter struct {
	buf  []byte
	emit func(line []byte)
}

func (l *lineSplitter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		take := min(len(p), maxLogLine-len(l.buf))
		chunk := p[:take]
		p = p[take:]
		for {
			i := bytes.IndexByte(chunk, '\n')
			if i < 0 {
				break
			}
			l.buf = append(l.buf, chunk[:i+1]...)
			l.emit(l.buf)
			l.buf = l.buf[:0]
			chunk = chunk[i+1:]
		}
		l.buf = append(l.buf, chunk...)
		if len(l.buf) == maxLogLine {
			l.emit(l.buf)
			l.buf = l.buf[:0]
		}
	}
	return n, nil
}

// Flush passes on the incomplete line, if any.
func (l *lineSplitter) Flush() {
	if len(l.buf) > 0 {
		l.emit(l.buf)
		l.buf = l.buf[:0]
	}
}

// copyLines reads r until it ends and calls emit with each line, as a
// lineSplitter splits them.
func copyLines(r io.Reader, emit func(line []byte)) {
	split := &lineSplitter{buf: make([]byte, 0, maxLogLine), emit: emit}
	_, _ = io.Copy(split, r)
	split.Flush()
}
