package container

import (
	"os"
	"testing"
)

func TestParseStartTime(t *testing.T) {
	line := "1234 (we ird) name)) S 1 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 98765 1000 10 18446744073709551615\n"
	got, err := parseStartTime([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	if got != 98765 {
		t.Errorf("start time = %d, want 98765", got)
	}
	if _, err := parseStartTime([]byte("1 (x) S 1")); err == nil {
		t.Error("short line accepted")
	}
}

func TestProcessStartTimeOfSelf(t *testing.T) {
	got, err := processStartTime(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if got == 0 {
		t.Error("start time of the test process is 0")
	}
}
