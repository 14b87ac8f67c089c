package memtrim

import (
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestBinaryMappings(t *testing.T) {
	smaps := `00400000-006a9000 r-xp 00000000 fe:00 9987409                            /usr/bin/gocker
Size:               2724 kB
Anonymous:             0 kB
006a9000-009b0000 r--p 002a9000 fe:00 9987409                            /usr/bin/gocker
Anonymous:             0 kB
009b0000-009d9000 rw-p 005b0000 fe:00 9987409                            /usr/bin/gocker
Anonymous:            80 kB
00a00000-00a10000 r--p 00600000 fe:00 9987409                            /usr/bin/gocker
Anonymous:             8 kB
7f0000000000-7f0000100000 r-xp 00000000 fe:00 1234                       /usr/lib/other.so
Anonymous:             0 kB
7f0000200000-7f0000300000 rw-p 00000000 00:00 0
Anonymous:          1024 kB
`
	got := binaryMappings([]byte(smaps), 0x00500000)
	want := []mapping{
		{start: 0x00400000, end: 0x006a9000, perms: "r-xp", file: "fe:00 9987409"},
		{start: 0x006a9000, end: 0x009b0000, perms: "r--p", file: "fe:00 9987409"},
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(mapping{})); diff != "" {
		t.Errorf("mappings (-want +got):\n%s", diff)
	}
	if got := binaryMappings([]byte(smaps), 0x1000); len(got) != 0 {
		t.Errorf("an address outside every mapping selected %v", got)
	}
}

func TestTrimOfSelf(t *testing.T) {
	if _, err := os.Stat("/proc/self/smaps"); err != nil {
		t.Skipf("needs /proc/self/smaps: %v", err)
	}
	if len(executableMappings()) == 0 {
		t.Fatal("found no mapping of the test binary")
	}
	// The test binary keeps running from the dropped pages.
	Trim()
	if len(executableMappings()) == 0 {
		t.Fatal("lost the mappings")
	}
}

func TestResidentOfSelf(t *testing.T) {
	before := Resident()
	if before <= 0 {
		t.Fatalf("Resident() = %d, want the size of this test process", before)
	}
	Trim()
	if after := Resident(); after <= 0 || after > before {
		t.Errorf("resident size %d after Trim, %d before", after, before)
	}
}
