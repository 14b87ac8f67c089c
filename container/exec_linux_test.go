package container

import "testing"

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
