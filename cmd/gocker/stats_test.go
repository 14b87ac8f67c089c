package main

import (
	"testing"
	"time"

	"github.com/gocker/gocker/cgroupv2"
	"github.com/gocker/gocker/container"
)

func TestStatsRow(t *testing.T) {
	start := time.Unix(1000, 0)
	sample := func(at time.Duration, cpu time.Duration, u cgroupv2.Usage, fromCgroup bool) container.Usage {
		u.CPU = cpu
		return container.Usage{Usage: u, FromCgroup: fromCgroup, Time: start.Add(at)}
	}
	tests := []struct {
		name       string
		prev, cur  container.Usage
		memTotal   uint64
		wantCPU    string
		wantMemory string
		wantPct    string
	}{
		{
			name:       "limited",
			prev:       sample(0, 0, cgroupv2.Usage{}, true),
			cur:        sample(time.Second, 500*time.Millisecond, cgroupv2.Usage{Memory: 16 << 20, MemoryLimit: 64 << 20, Pids: 3}, true),
			wantCPU:    "50.00%",
			wantMemory: "16MiB / 64MiB",
			wantPct:    "25.00%",
		},
		{
			name:       "cgroup without memory limit",
			prev:       sample(0, 0, cgroupv2.Usage{}, true),
			cur:        sample(2*time.Second, 0, cgroupv2.Usage{Memory: 1536 << 10}, true),
			memTotal:   1 << 30,
			wantCPU:    "0.00%",
			wantMemory: "1.5MiB / 1GiB",
			wantPct:    "0.15%",
		},
		{
			name:       "no cgroup",
			prev:       sample(0, time.Second, cgroupv2.Usage{}, false),
			cur:        sample(time.Second, 3*time.Second, cgroupv2.Usage{Memory: 1000}, false),
			memTotal:   1 << 30,
			wantCPU:    "200.00%",
			wantMemory: "1000B / --",
			wantPct:    "--",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			row := statsRow(tt.prev, tt.cur, tt.memTotal)
			if row[0] != tt.wantCPU || row[1] != tt.wantMemory || row[2] != tt.wantPct {
				t.Errorf("row = %q, want %q, %q, %q", row, tt.wantCPU, tt.wantMemory, tt.wantPct)
			}
		})
	}
}
