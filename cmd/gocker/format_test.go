package main

import (
	"encoding/json"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func TestHumanDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{500 * time.Millisecond, "Less than a second"},
		{time.Second, "1 second"},
		{3 * time.Second, "3 seconds"},
		{90 * time.Second, "About a minute"},
		{5 * time.Minute, "5 minutes"},
		{61 * time.Minute, "About an hour"},
		{5 * time.Hour, "5 hours"},
		{72 * time.Hour, "3 days"},
		{21 * 24 * time.Hour, "3 weeks"},
		{90 * 24 * time.Hour, "3 months"},
		{3 * 365 * 24 * time.Hour, "3 years"},
	}
	for _, tt := range tests {
		if got := humanDuration(tt.d); got != tt.want {
			t.Errorf("humanDuration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestHumanSize(t *testing.T) {
	tests := []struct {
		size int64
		want string
	}{
		{0, "0B"},
		{999, "999B"},
		{1234, "1.23kB"},
		{8089600, "8.09MB"},
		{5_000_000_000, "5GB"},
	}
	for _, tt := range tests {
		if got := humanSize(tt.size); got != tt.want {
			t.Errorf("humanSize(%d) = %q, want %q", tt.size, got, tt.want)
		}
	}
}

func TestTruncate(t *testing.T) {
	if got := truncate(`"sh -c 'sleep 1000; echo done'"`, 20); got != `"sh -c 'sleep 1000;…` {
		t.Errorf("truncate = %q", got)
	}
	if got := truncate("short", 20); got != "short" {
		t.Errorf("truncate = %q", got)
	}
}

func TestNewInspectConfigEmptyImage(t *testing.T) {
	data, err := json.Marshal(newInspectConfig(v1.Config{}))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"User":"","Env":[],"Entrypoint":[],"Cmd":[],"Volumes":{},"WorkingDir":"","Labels":{},"OnBuild":[]}`
	if string(data) != want {
		t.Errorf("config of an image without one = %s, want %s", data, want)
	}
	cfg := newInspectConfig(v1.Config{Cmd: []string{"sh"}, Env: []string{"A=1"}, User: "app"})
	if len(cfg.Cmd) != 1 || cfg.Cmd[0] != "sh" || cfg.Env[0] != "A=1" || cfg.User != "app" {
		t.Errorf("newInspectConfig lost fields: %+v", cfg)
	}
}
