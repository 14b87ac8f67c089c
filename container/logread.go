package container

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// LogsOptions select and format the output of [Store.Logs].
type LogsOptions struct {
	// Follow keeps printing new output until the container stops.
	Follow bool
	// Tail is the number of lines to print from the end of the log;
	// negative prints the whole log.
	Tail int
	// Since and Until keep only records written at or after Since and
	// before Until; zero values do not filter.
	Since, Until time.Time
	// Timestamps prefixes each line with the time it was written.
	Timestamps bool
	// Stdout and Stderr receive the lines of each stream. A container
	// with a terminal has one stream, stdout.
	Stdout, Stderr io.Writer
}

// timestampFormat is RFC 3339 with nanoseconds always written out, so that
// timestamps line up.
const timestampFormat = "2006-01-02T15:04:05.000000000Z07:00"

// Logs writes container c's log. With opts.Follow it then waits for new
// records and returns once the container is stopped and the log is read to
// its end, or when ctx ends.
func (s *Store) Logs(ctx context.Context, c *Container, opts LogsOptions) error {
	if c.HostConfig.LogConfig.Type == LogDriverNone {
		return errors.New(`the container's log driver is "none": it keeps no logs`)
	}
	dir := s.Dir(c.ID)
	files := logFiles(dir)
	first, offset, err := tailStart(files, opts.Tail)
	if err != nil {
		return err
	}
	p := &logPrinter{opts: opts}
	current := filepath.Join(dir, logFileName)
	for i := first; i < len(files); i++ {
		start := int64(0)
		if i == first {
			start = offset
		}
		if opts.Follow && files[i] == current {
			f, err := openAt(current, start)
			if err != nil {
				return err
			}
			return s.followLog(ctx, c, current, f, p)
		}
		if err := p.printFile(files[i], start); err != nil {
			return err
		}
	}
	if !opts.Follow {
		return nil
	}
	f, err := openAt(current, 0)
	if err != nil {
		return err
	}
	return s.followLog(ctx, c, current, f, p)
}

func (s *Store) followLog(ctx context.Context, c *Container, path string, f *os.File, p *logPrinter) error {
	running := func() bool {
		cur, err := s.load(c.ID)
		return err == nil && (cur.State.Status == StatusRunning || cur.State.Status == StatusRestarting)
	}
	return followLog(ctx, path, f, p, running)
}

// openAt opens the log file at path positioned at offset. A missing file
// (a container that never wrote) reads as empty.
func openAt(path string, offset int64) (*os.File, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return os.Open(os.DevNull)
	}
	if err != nil {
		return nil, err
	}
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// logPrinter decodes records and writes those that pass the filters.
type logPrinter struct {
	opts    LogsOptions
	partial []byte // an incomplete last line, while following
	out     []byte
}

func (p *logPrinter) printFile(path string, offset int64) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // rotated away meanwhile
	}
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return err
	}
	_, err = p.copyFrom(f)
	p.partial = p.partial[:0]
	return err
}

// copyFrom prints the records that r holds until its end and returns how
// many bytes it read. A line without its newline is kept for the next
// call.
func (p *logPrinter) copyFrom(r io.Reader) (int64, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var total int64
	for {
		line, err := br.ReadSlice('\n')
		total += int64(len(line))
		if errors.Is(err, bufio.ErrBufferFull) {
			p.partial = append(p.partial, line...)
			continue
		}
		if err != nil {
			p.partial = append(p.partial, line...)
			if errors.Is(err, io.EOF) {
				return total, nil
			}
			return total, err
		}
		if len(p.partial) > 0 {
			line = append(p.partial, line...)
			p.partial = p.partial[:0]
		}
		if err := p.printRecord(line); err != nil {
			return total, err
		}
	}
}

func (p *logPrinter) printRecord(line []byte) error {
	var rec logRecord
	if err := json.Unmarshal(line, &rec); err != nil {
		return nil // a damaged line is skipped, as Docker does
	}
	if !p.opts.Since.IsZero() && rec.Time.Before(p.opts.Since) {
		return nil
	}
	if !p.opts.Until.IsZero() && !rec.Time.Before(p.opts.Until) {
		return nil
	}
	w := p.opts.Stdout
	if rec.Stream == StreamStderr {
		w = p.opts.Stderr
	}
	p.out = p.out[:0]
	if p.opts.Timestamps {
		p.out = rec.Time.UTC().AppendFormat(p.out, timestampFormat)
		p.out = append(p.out, ' ')
	}
	p.out = append(p.out, rec.Log...)
	_, err := w.Write(p.out)
	return err
}

// tailStart returns where the last n lines of the log files begin: the
// index of the file and the offset in it. Negative n means the whole log.
func tailStart(files []string, n int) (int, int64, error) {
	if n < 0 {
		return 0, 0, nil
	}
	for i := len(files) - 1; i >= 0; i-- {
		offset, found, err := tailOffset(files[i], n)
		if err != nil {
			return 0, 0, err
		}
		if found == n {
			return i, offset, nil
		}
		n -= found
	}
	return 0, 0, nil
}

// tailOffset reads the file at path backwards and returns the offset at
// which its last n lines begin and how many lines it found, fewer than n
// when the file has fewer.
func tailOffset(path string, n int) (int64, int, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, 0, err
	}
	end := st.Size()
	if n == 0 || end == 0 {
		return end, 0, nil
	}
	buf := make([]byte, 32<<10)
	// Every newline but the one that ends the file starts a line.
	starts := 0
	for pos := end; pos > 0; {
		size := min(int64(len(buf)), pos)
		pos -= size
		chunk := buf[:size]
		if _, err := f.ReadAt(chunk, pos); err != nil {
			return 0, 0, err
		}
		for i := len(chunk) - 1; i >= 0; i-- {
			if chunk[i] != '\n' || pos+int64(i) == end-1 {
				continue
			}
			starts++
			if starts == n {
				return pos + int64(i) + 1, n, nil
			}
		}
	}
	// The first line starts at the beginning of the file.
	return 0, starts + 1, nil
}
