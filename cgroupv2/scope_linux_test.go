package cgroupv2

import (
	"math"
	"slices"
	"testing"
)

func TestLimitProperties(t *testing.T) {
	r := Resources{NanoCPUs: 500_000_000, CPUShares: 1024, CpusetCpus: "0-2,4,9", PidsLimit: -1}
	props, err := limitProperties(r)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]any{}
	for _, p := range props {
		got[p.Name] = p.Value.Value()
	}
	want := map[string]any{
		// 50000us per 100ms period.
		"CPUQuotaPerSecUSec": uint64(500000),
		"CPUWeight":          CPUWeight(1024),
		"AllowedCPUs":        []byte{0x17, 0x02},
		"TasksMax":           uint64(math.MaxUint64),
	}
	if len(got) != len(want) {
		t.Errorf("properties %v, want %v", got, want)
	}
	for name, w := range want {
		if b, ok := w.([]byte); ok {
			if g, _ := got[name].([]byte); !slices.Equal(g, b) {
				t.Errorf("%s = %v, want %v", name, got[name], w)
			}
			continue
		}
		if got[name] != w {
			t.Errorf("%s = %v (%T), want %v (%T)", name, got[name], got[name], w, w)
		}
	}

	props, err = limitProperties(Resources{PidsLimit: 32})
	if err != nil || len(props) != 1 || props[0].Name != "TasksMax" || props[0].Value.Value() != uint64(32) {
		t.Errorf("--pids-limit 32: %v, %v; want TasksMax 32", props, err)
	}
}

func TestCPUQuotaPerSecondKeepsQuota(t *testing.T) {
	// systemd turns the quota per second back into cpu.max with a period
	// of 100ms; every --cpus value must survive the round trip.
	for _, nano := range []int64{10_000_000, 333_300_000, 1_500_000_000, 3_999_990_000} {
		props, err := limitProperties(Resources{NanoCPUs: nano})
		if err != nil {
			t.Fatal(err)
		}
		perSec := props[0].Value.Value().(uint64)
		if back := int64(perSec * CPUPeriod / 1_000_000); back != CPUQuota(nano) {
			t.Errorf("--cpus %d nano: systemd writes quota %d, want %d", nano, back, CPUQuota(nano))
		}
	}
}
