package container

import (
	"testing"
	"time"
)

func TestFormatCPUTime(t *testing.T) {
	tests := map[uint64]string{
		0:                   "00:00:00",
		150:                 "00:00:01",
		100 * 3723:          "01:02:03",
		100 * (86400*2 + 5): "2-00:00:05",
	}
	for ticks, want := range tests {
		if got := formatCPUTime(ticks); got != want {
			t.Errorf("formatCPUTime(%d) = %q, want %q", ticks, got, want)
		}
	}
}

func TestFormatStartTime(t *testing.T) {
	now := time.Date(2024, 5, 1, 15, 0, 0, 0, time.UTC)
	tests := []struct {
		start time.Time
		want  string
	}{
		{time.Date(2024, 5, 1, 9, 7, 0, 0, time.UTC), "09:07"},
		{time.Date(2024, 3, 2, 9, 7, 0, 0, time.UTC), "Mar02"},
		{time.Date(2023, 5, 1, 9, 7, 0, 0, time.UTC), "2023"},
	}
	for _, tt := range tests {
		if got := formatStartTime(tt.start, now); got != tt.want {
			t.Errorf("formatStartTime(%v) = %q, want %q", tt.start, got, tt.want)
		}
	}
}

func TestFormatTTY(t *testing.T) {
	tests := map[uint64]string{
		0:                 "?",
		136<<8 | 3:        "pts/3",
		137<<8 | 1:        "pts/257",
		136<<8 | 0x12<<20: "pts/4608",
		4<<8 | 1:          "tty1",
	}
	for nr, want := range tests {
		if got := formatTTY(nr); got != want {
			t.Errorf("formatTTY(%#x) = %q, want %q", nr, got, want)
		}
	}
}

func TestCPUPercent(t *testing.T) {
	if got := cpuPercent(50, 2*time.Second); got != 25 {
		t.Errorf("cpuPercent(0.5 s in 2 s) = %d, want 25", got)
	}
	if got := cpuPercent(10, 0); got != 0 {
		t.Errorf("cpuPercent with no elapsed time = %d, want 0", got)
	}
}
