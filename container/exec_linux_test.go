package container

import (
	"bytes"
	"io"
	"os"
	"testing"

	"github.com/gocker/gocker/reexec"
	"golang.org/x/sys/unix"
)

func TestIDMapped(t *testing.T) {
	idMap := "         0       1006          1\n         1     362144      65536\n"
	tests := map[uint32]bool{
		1006:   true,
		362144: true,
		427679: true,
		427680: false,
		0:      false,
		1005:   false,
	}
	for id, want := range tests {
		if got := idMapped(idMap, id); got != want {
			t.Errorf("idMapped(%d) = %v, want %v", id, got, want)
		}
	}
}

func TestSealedExecutable(t *testing.T) {
	f, err := sealedExecutable(reexec.SelfExe)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want, err := os.ReadFile("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(io.NewSectionReader(f, 0, int64(len(want))+1))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("the copy has %d bytes and differs from the binary's %d", len(got), len(want))
	}
	if _, err := f.WriteAt([]byte("x"), 0); err == nil {
		t.Error("writing the sealed copy succeeded")
	}
	if err := f.Truncate(1); err == nil {
		t.Error("shrinking the sealed copy succeeded")
	}
	seals, err := unix.FcntlInt(f.Fd(), unix.F_GET_SEALS, 0)
	if err != nil {
		t.Fatal(err)
	}
	wantSeals := unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE
	if seals&wantSeals != wantSeals {
		t.Errorf("seals = %#x, want at least %#x", seals, wantSeals)
	}
}
