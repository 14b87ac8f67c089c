package container

import (
	"testing"
	"time"
)

func TestParseRestartPolicy(t *testing.T) {
	tests := []struct {
		in      string
		want    RestartPolicy
		wantErr bool
	}{
		{in: "", want: RestartPolicy{Name: "no"}},
		{in: "no", want: RestartPolicy{Name: "no"}},
		{in: "always", want: RestartPolicy{Name: "always"}},
		{in: "unless-stopped", want: RestartPolicy{Name: "unless-stopped"}},
		{in: "on-failure", want: RestartPolicy{Name: "on-failure"}},
		{in: "on-failure:3", want: RestartPolicy{Name: "on-failure", MaximumRetryCount: 3}},
		{in: "on-failure:-1", wantErr: true},
		{in: "on-failure:x", wantErr: true},
		{in: "always:2", wantErr: true},
		{in: "sometimes", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseRestartPolicy(tt.in)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("ParseRestartPolicy(%q) = %+v, want an error", tt.in, got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestShouldRestart(t *testing.T) {
	tests := []struct {
		name     string
		policy   RestartPolicy
		code     int
		restarts int
		stopped  bool
		want     bool
	}{
		{"no", RestartPolicy{Name: "no"}, 1, 0, false, false},
		{"always after success", RestartPolicy{Name: "always"}, 0, 5, false, true},
		{"always after stop", RestartPolicy{Name: "always"}, 143, 0, true, false},
		{"on-failure after success", RestartPolicy{Name: "on-failure"}, 0, 0, false, false},
		{"on-failure after failure", RestartPolicy{Name: "on-failure"}, 2, 100, false, true},
		{"on-failure within limit", RestartPolicy{Name: "on-failure", MaximumRetryCount: 2}, 1, 1, false, true},
		{"on-failure at limit", RestartPolicy{Name: "on-failure", MaximumRetryCount: 2}, 1, 2, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.policy.ShouldRestart(tt.code, tt.restarts, tt.stopped); got != tt.want {
				t.Errorf("ShouldRestart(%d, %d, %v) = %v, want %v", tt.code, tt.restarts, tt.stopped, got, tt.want)
			}
		})
	}
}

func TestRestartBackoff(t *testing.T) {
	var b restartBackoff
	short := time.Second
	want := []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond}
	for i, w := range want {
		if got := b.next(short); got != w {
			t.Errorf("delay %d = %v, want %v", i, got, w)
		}
	}
	for range 20 {
		b.next(short)
	}
	if got := b.next(short); got != time.Minute {
		t.Errorf("delay after many quick exits = %v, want the maximum of 1m", got)
	}
	if got := b.next(15 * time.Second); got != 100*time.Millisecond {
		t.Errorf("delay after a long run = %v, want it reset to 100ms", got)
	}
}
