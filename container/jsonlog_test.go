package container

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestAppendLogRecord(t *testing.T) {
	at := time.Date(2024, 5, 1, 10, 0, 0, 123456789, time.UTC)
	lines := []string{
		"hello\n",
		"tab\tquote\" backslash\\ cr\r\n",
		"bell \a nul \x00 esc \x1b",
		"ünïcödé ✓\n",
		"bad \xff\xfe utf-8",
		"",
	}
	for _, line := range lines {
		data := appendLogRecord(nil, StreamStderr, []byte(line), at)
		if data[len(data)-1] != '\n' || strings.Count(string(data), "\n") != 1 {
			t.Errorf("record of %q is not one line: %q", line, data)
		}
		var rec logRecord
		if err := json.Unmarshal(data, &rec); err != nil {
			t.Fatalf("record of %q is not JSON: %v: %s", line, err, data)
		}
		want := strings.ToValidUTF8(line, "\ufffd")
		if line == "bad \xff\xfe utf-8" {
			want = "bad \ufffd\ufffd utf-8"
		}
		if rec.Log != want || rec.Stream != StreamStderr || !rec.Time.Equal(at) {
			t.Errorf("decoded %+v, want log %q at %v", rec, want, at)
		}
	}
}

func TestCopyLines(t *testing.T) {
	long := strings.Repeat("x", maxLogLine+10)
	tests := []struct {
		name  string
		input string
		want  []string
	}{
		{"lines", "a\nbb\n", []string{"a\n", "bb\n"}},
		{"no final newline", "a\nrest", []string{"a\n", "rest"}},
		{"empty lines", "\n\n", []string{"\n", "\n"}},
		{"long line", long + "\n", []string{long[:maxLogLine], long[maxLogLine:] + "\n"}},
		{"empty", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			// OneByteReader makes every line arrive in many reads.
			copyLines(iotest.OneByteReader(strings.NewReader(tt.input)), func(line []byte) {
				got = append(got, string(line))
			})
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("lines (-want +got):\n%s", diff)
			}
		})
	}
}

func readLogFile(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		var rec logRecord
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, rec.Log)
	}
	return out
}

func TestLogWriterRotation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, logFileName)
	at := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	// Each record is 62 bytes, so a 150-byte limit holds two.
	w, err := openLogWriter(path, 150, 3)
	if err != nil {
		t.Fatal(err)
	}
	w.now = func() time.Time { return at }
	for i := range 7 {
		if err := w.Write(StreamStdout, []byte{'a' + byte(i), '\n'}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		path:        {"g\n"},
		path + ".1": {"e\n", "f\n"},
		path + ".2": {"c\n", "d\n"},
	}
	for p, lines := range want {
		if diff := cmp.Diff(lines, readLogFile(t, p)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", filepath.Base(p), diff)
		}
	}
	if _, err := os.Stat(path + ".3"); err == nil {
		t.Errorf("json.log.3 exists with max-file=3")
	}
	if diff := cmp.Diff([]string{path + ".2", path + ".1", path}, logFiles(dir)); diff != "" {
		t.Errorf("logFiles (-want +got):\n%s", diff)
	}
}

func TestLogWriterSingleFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), logFileName)
	w, err := openLogWriter(path, 100, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"one\n", "two\n", "three\n"} {
		if err := w.Write(StreamStdout, []byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	if diff := cmp.Diff([]string{"three\n"}, readLogFile(t, path)); diff != "" {
		t.Errorf("log (-want +got):\n%s", diff)
	}
}

func TestLogsTailAndFilters(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, logFileName)
	base := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	w, err := openLogWriter(path, 130, 3) // two 62-byte records per file
	if err != nil {
		t.Fatal(err)
	}
	i := 0
	w.now = func() time.Time { return base.Add(time.Duration(i) * time.Minute) }
	for ; i < 6; i++ {
		stream := StreamStdout
		if i%2 == 1 {
			stream = StreamStderr
		}
		if err := w.Write(stream, []byte{'0' + byte(i), '\n'}); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	files := logFiles(dir)
	if len(files) != 3 {
		t.Fatalf("want the log rotated into 3 files, got %v", files)
	}
	tests := []struct {
		name       string
		opts       LogsOptions
		wantOut    string
		wantErrOut string
	}{
		{name: "all", opts: LogsOptions{Tail: -1}, wantOut: "0\n2\n4\n", wantErrOut: "1\n3\n5\n"},
		{name: "tail across files", opts: LogsOptions{Tail: 3}, wantOut: "4\n", wantErrOut: "3\n5\n"},
		{name: "tail more than all", opts: LogsOptions{Tail: 100}, wantOut: "0\n2\n4\n", wantErrOut: "1\n3\n5\n"},
		{name: "tail zero", opts: LogsOptions{Tail: 0}},
		{name: "since", opts: LogsOptions{Tail: -1, Since: base.Add(4 * time.Minute)}, wantOut: "4\n", wantErrOut: "5\n"},
		{name: "until", opts: LogsOptions{Tail: -1, Until: base.Add(time.Minute)}, wantOut: "0\n"},
		{
			name:       "timestamps",
			opts:       LogsOptions{Tail: 1, Timestamps: true},
			wantErrOut: "2024-05-01T10:05:00.000000000Z 5\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut strings.Builder
			tt.opts.Stdout, tt.opts.Stderr = &out, &errOut
			first, offset, err := tailStart(files, tt.opts.Tail)
			if err != nil {
				t.Fatal(err)
			}
			p := &logPrinter{opts: tt.opts}
			for i := first; i < len(files); i++ {
				start := int64(0)
				if i == first {
					start = offset
				}
				if err := p.printFile(files[i], start); err != nil {
					t.Fatal(err)
				}
			}
			if out.String() != tt.wantOut {
				t.Errorf("stdout = %q, want %q", out.String(), tt.wantOut)
			}
			if errOut.String() != tt.wantErrOut {
				t.Errorf("stderr = %q, want %q", errOut.String(), tt.wantErrOut)
			}
		})
	}
}

func TestTailOffsetWithoutFinalNewline(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, []byte("a\nb\nc"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		n          int
		wantOffset int64
		wantFound  int
	}{
		{1, 4, 1},
		{2, 2, 2},
		{3, 0, 3},
		{5, 0, 3},
	}
	for _, tt := range tests {
		offset, found, err := tailOffset(path, tt.n)
		if err != nil {
			t.Fatal(err)
		}
		if offset != tt.wantOffset || found != tt.wantFound {
			t.Errorf("tailOffset(%d) = %d, %d; want %d, %d", tt.n, offset, found, tt.wantOffset, tt.wantFound)
		}
	}
}
