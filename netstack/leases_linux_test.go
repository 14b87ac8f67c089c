package netstack

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/gocker/gocker/internal/lockfile"
)

func TestLeaseFileRoundTrip(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	running := filepath.Join(dir, "running.lock")
	held, err := lockfile.Exclusive(ctx, running)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Unlock()

	f, err := openLeases(ctx, dir, "gocker0")
	if err != nil {
		t.Fatal(err)
	}
	f.state.Gateway = "172.18.0.1/24"
	f.state.Leases["alive"] = &lease{Address: "172.18.0.2", Veth: "gkalive", MonitorLock: running}
	f.state.Leases["dead"] = &lease{Address: "172.18.0.3", Veth: "gkdead", MonitorLock: filepath.Join(dir, "dead.lock")}
	if err := f.save(); err != nil {
		t.Fatal(err)
	}
	f.close()

	f, err = openLeases(ctx, dir, "gocker0")
	if err != nil {
		t.Fatal(err)
	}
	defer f.close()
	if got := f.stale(); !slices.Equal(got, []string{"dead"}) {
		t.Errorf("stale = %q, want [dead]", got)
	}
	used := f.used()
	if len(used) != 2 {
		t.Errorf("used = %v, want the two leased addresses", used)
	}
	// Without leases and without a bridge setup, the file goes.
	f.state.Leases = map[string]*lease{}
	f.state.Gateway = ""
	if err := f.save(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "gocker0.json")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("lease file after the last lease: %v, want it removed", err)
	}
}
