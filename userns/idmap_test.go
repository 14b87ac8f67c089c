package userns

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseSubIDs(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		want    []SubIDEntry
		wantErr string
	}{
		{
			name:  "name and uid keys",
			input: "alice:100000:65536\n1001:200000:1000\n",
			want: []SubIDEntry{
				{Owner: "alice", SubIDRange: SubIDRange{Start: 100000, Count: 65536}},
				{Owner: "1001", SubIDRange: SubIDRange{Start: 200000, Count: 1000}},
			},
		},
		{
			name:  "comments and blank lines",
			input: "# generated\n\n  bob:300000:10  \n",
			want:  []SubIDEntry{{Owner: "bob", SubIDRange: SubIDRange{Start: 300000, Count: 10}}},
		},
		{name: "missing field", input: "alice:100000\n", wantErr: "line 1"},
		{name: "negative count", input: "alice:1:2\nbob:5:-1\n", wantErr: "line 2"},
		{name: "zero count", input: "alice:1:0\n", wantErr: "line 1"},
		{name: "beyond 32 bits", input: "alice:4294967295:2\n", wantErr: "line 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSubIDs(strings.NewReader(tt.input))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("entries (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRangesForMatchesNameAndUID(t *testing.T) {
	entries := []SubIDEntry{
		{Owner: "alice", SubIDRange: SubIDRange{Start: 100000, Count: 65536}},
		{Owner: "bob", SubIDRange: SubIDRange{Start: 165536, Count: 65536}},
		{Owner: "1001", SubIDRange: SubIDRange{Start: 300000, Count: 5}},
	}
	got := RangesFor(entries, "alice", 1001)
	want := []SubIDRange{{Start: 100000, Count: 65536}, {Start: 300000, Count: 5}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ranges (-want +got):\n%s", diff)
	}
}

func TestBuildMapsAndArgs(t *testing.T) {
	maps, err := BuildMaps(1001, []SubIDRange{{Start: 100000, Count: 65536}, {Start: 300000, Count: 10}})
	if err != nil {
		t.Fatal(err)
	}
	want := []IDMap{
		{ContainerID: 0, HostID: 1001, Size: 1},
		{ContainerID: 1, HostID: 100000, Size: 65536},
		{ContainerID: 65537, HostID: 300000, Size: 10},
	}
	if diff := cmp.Diff(want, maps); diff != "" {
		t.Fatalf("maps (-want +got):\n%s", diff)
	}
	args := strings.Join(MapToolArgs(42, maps), " ")
	if args != "42 0 1001 1 1 100000 65536 65537 300000 10" {
		t.Errorf("args = %q", args)
	}
	if got := Size(maps); got != 65547 {
		t.Errorf("Size = %d, want 65547", got)
	}
}

func TestBuildMapsRejectsOwnID(t *testing.T) {
	_, err := BuildMaps(100005, []SubIDRange{{Start: 100000, Count: 65536}})
	if !errors.Is(err, ErrRangeOverlapsUser) {
		t.Fatalf("error = %v, want ErrRangeOverlapsUser", err)
	}
}

func TestToHostAndBack(t *testing.T) {
	maps := []IDMap{{ContainerID: 0, HostID: 1001, Size: 1}, {ContainerID: 1, HostID: 100000, Size: 65536}}
	tests := []struct {
		container, host int64
	}{{0, 1001}, {1, 100000}, {65534, 165533}, {65536, 165535}}
	for _, tt := range tests {
		if got, ok := ToHost(maps, tt.container); !ok || got != tt.host {
			t.Errorf("ToHost(%d) = %d, %v; want %d", tt.container, got, ok, tt.host)
		}
		if got, ok := ToContainer(maps, tt.host); !ok || got != tt.container {
			t.Errorf("ToContainer(%d) = %d, %v; want %d", tt.host, got, ok, tt.container)
		}
	}
	if _, ok := ToHost(maps, 65537); ok {
		t.Error("ToHost(65537) mapped an id outside the maps")
	}
}

func TestSuggestFreeRange(t *testing.T) {
	entries := []SubIDEntry{
		{Owner: "a", SubIDRange: SubIDRange{Start: 100000, Count: 65536}},
		{Owner: "b", SubIDRange: SubIDRange{Start: 165536, Count: 65536}},
	}
	if got := SuggestFreeRange(entries, 65536); got.Start != 231072 {
		t.Errorf("start = %d, want 231072", got.Start)
	}
	if got := SuggestFreeRange(nil, 65536); got.Start != 100000 {
		t.Errorf("start on an empty file = %d, want 100000", got.Start)
	}
}

func FuzzParseSubIDs(f *testing.F) {
	f.Add("alice:100000:65536\n")
	f.Add("1000:1:1\n#x\n")
	f.Fuzz(func(t *testing.T, input string) {
		entries, err := ParseSubIDs(strings.NewReader(input))
		if err != nil {
			return
		}
		for _, e := range entries {
			if e.Count <= 0 || e.Start < 0 || e.Owner == "" {
				t.Fatalf("accepted invalid entry %+v", e)
			}
		}
	})
}
