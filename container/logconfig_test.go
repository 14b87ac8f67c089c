package container

import "testing"

func TestNewLogConfig(t *testing.T) {
	tests := []struct {
		name      string
		driver    string
		opts      []string
		wantSize  int64
		wantFiles int
		wantErr   bool
	}{
		{name: "default", wantFiles: 1},
		{name: "size", opts: []string{"max-size=10m"}, wantSize: 10 << 20, wantFiles: 1},
		{name: "size and files", opts: []string{"max-size=512k", "max-file=3"}, wantSize: 512 << 10, wantFiles: 3},
		{name: "bytes", opts: []string{"max-size=100"}, wantSize: 100, wantFiles: 1},
		{name: "unit with b", opts: []string{"max-size=2MB"}, wantSize: 2 << 20, wantFiles: 1},
		{name: "none", driver: "none", wantFiles: 1},
		{name: "files without size", opts: []string{"max-file=3"}, wantErr: true},
		{name: "zero size", opts: []string{"max-size=0"}, wantErr: true},
		{name: "bad unit", opts: []string{"max-size=10x"}, wantErr: true},
		{name: "zero files", opts: []string{"max-size=1m", "max-file=0"}, wantErr: true},
		{name: "unknown key", opts: []string{"compress=true"}, wantErr: true},
		{name: "no value", opts: []string{"max-size"}, wantErr: true},
		{name: "option for none", driver: "none", opts: []string{"max-size=1m"}, wantErr: true},
		{name: "unknown driver", driver: "syslog", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lc, err := NewLogConfig(tt.driver, tt.opts)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("got %+v, want an error", lc)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			size, files, err := lc.Limits()
			if err != nil {
				t.Fatal(err)
			}
			if size != tt.wantSize || files != tt.wantFiles {
				t.Errorf("limits = %d bytes, %d files; want %d, %d", size, files, tt.wantSize, tt.wantFiles)
			}
		})
	}
}
